package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sock-project/sock/toe"
)

// specFlags are the flags of every command that reads a nail.
type specFlags struct {
	set   []string
	nails []string
}

func (f *specFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.set, "set", nil, "override a variable: `key=value` (repeatable)")
	fs.StringArrayVar(&f.nails, "nails", nil, "also look for included nails in `DIR` (repeatable)")
}

// options turns the flags into toe's options; a --set without "=" is a
// usage error.
func (f *specFlags) options() (toe.Options, error) {
	opts := toe.Options{NailPath: f.nails}
	for _, kv := range f.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return opts, usageError{fmt.Errorf("--set %q: want key=value", kv)}
		}
		if opts.Set == nil {
			opts.Set = map[string]string{}
		}
		opts.Set[k] = v
	}
	return opts, nil
}

// loadFoot loads a nail with the spec flags; problems in it are printed
// to stderr like lint's and returned as a reported error (exit 1).
func loadFoot(sf *specFlags, path string, stderr io.Writer) (*toe.Foot, error) {
	opts, err := sf.options()
	if err != nil {
		return nil, err
	}
	foot, err := toe.Load(path, opts)
	var list toe.ErrorList
	if errors.As(err, &list) {
		return nil, printProblems(stderr, list)
	}
	return foot, err
}

// netFlags are the flags of commands that reach repositories.
type netFlags struct {
	cacheDir string
	offline  bool
}

func (f *netFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cacheDir, "cache-dir", defaultCacheDir(), "metadata and package cache `DIR`")
	fs.BoolVar(&f.offline, "offline", false, "use only the cache; fail with what is missing")
}

// defaultCacheDir is /var/cache/sock for root, else the user's cache
// folder ($XDG_CACHE_HOME/sock or ~/.cache/sock).
func defaultCacheDir() string {
	if os.Geteuid() == 0 {
		return "/var/cache/sock"
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "sock")
	}
	return filepath.Join(os.TempDir(), "sock-cache")
}
