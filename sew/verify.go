package sew

import (
	"context"
	"fmt"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/sock-project/sock/internal/rpmsig"
	"github.com/sock-project/sock/internal/yum"
)

// verifier checks each downloaded package as dnf's gpgcheck does: with
// the keys of its repository's gpgkey when the repository has gpgcheck
// on. Packages given by URL or path, which no metadata vouches for, get
// their own digests checked (dnf's localpkg_gpgcheck is off by default).
type verifier struct {
	repos map[string]yum.Repo
	dl    *yum.Downloader

	mu   sync.Mutex
	keys map[string]openpgp.EntityList
}

func newVerifier(repos []yum.Repo, dl *yum.Downloader) *verifier {
	v := &verifier{repos: map[string]yum.Repo{}, dl: dl, keys: map[string]openpgp.EntityList{}}
	for _, r := range repos {
		v.repos[r.ID] = r
	}
	return v
}

func (v *verifier) verify(ctx context.Context, p *yum.Package, path string) error {
	repo, ok := v.repos[p.Repo]
	if !ok {
		if _, err := rpmsig.CheckDigests(path); err != nil {
			return err
		}
		return nil
	}
	if !repo.GPGCheck {
		return nil // the metadata's checksum, verified while downloading, vouches for it
	}
	keys, err := v.repoKeys(ctx, repo)
	if err != nil {
		return err
	}
	if _, err := rpmsig.Verify(path, keys); err != nil {
		return fmt.Errorf("gpgcheck (repository %s): %w", repo.ID, err)
	}
	return nil
}

func (v *verifier) repoKeys(ctx context.Context, repo yum.Repo) (openpgp.EntityList, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[repo.ID]; ok {
		return k, nil
	}
	if len(repo.GPGKeys) == 0 {
		return nil, fmt.Errorf("repository %s has gpgcheck on and no gpgkey", repo.ID)
	}
	k, err := v.dl.LoadKeys(ctx, repo.GPGKeys)
	if err != nil {
		return nil, fmt.Errorf("repository %s: gpgkey: %w", repo.ID, err)
	}
	v.keys[repo.ID] = k
	return k, nil
}
