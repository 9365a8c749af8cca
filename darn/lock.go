package darn

import (
	"fmt"
	"strings"

	"github.com/sock-project/sock/toe"
)

// LockPath is where a nail's lock lives by default: app.toml's is
// app.lock.toml beside it.
func LockPath(nail string) string {
	return strings.TrimSuffix(nail, ".toml") + ".lock.toml"
}

// WithLock returns a copy of foot whose [[rpm]] pins are its own plus
// lock's (a darn output, loaded with toe). A pin of one name.arch in both
// must be the same build; the nail's copy is kept. Only lock's pins are
// used: a lock is not a second nail.
func WithLock(foot *toe.Foot, lockFile string, lock *toe.Foot) (*toe.Foot, error) {
	if len(lock.Rpms) > 0 || len(lock.Repos) > 0 || len(lock.Users) > 0 || len(lock.Groups) > 0 ||
		len(lock.Files) > 0 || len(lock.Mknods) > 0 || len(lock.Symlinks) > 0 || len(lock.Hooks) > 0 {
		return nil, fmt.Errorf("lock %s: holds more than [[rpm]] pins; put the rest in the nail", lockFile)
	}
	out := *foot
	out.Pins = append([]toe.Rpm(nil), foot.Pins...)
	have := map[string]toe.Rpm{}
	for _, p := range foot.Pins {
		have[p.Name+"."+p.Arch] = p
	}
	for _, p := range lock.Pins {
		if q, ok := have[p.Name+"."+p.Arch]; ok {
			if pinNEVRA(q) != pinNEVRA(p) {
				return nil, fmt.Errorf("lock %s: pins %s, the nail pins %s", lockFile, pinNEVRA(p), pinNEVRA(q))
			}
			continue
		}
		have[p.Name+"."+p.Arch] = p
		out.Pins = append(out.Pins, p)
	}
	return &out, nil
}
