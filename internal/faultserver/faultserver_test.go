package faultserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/yum"
)

// TestDownloaderAgainstFaults checks each fault at the Downloader level:
// a transient one (every 2nd request) is retried to a right file, a
// permanent one (every request) fails naming the URL and the fault, and
// the destination is never left holding a wrong file.
func TestDownloaderAgainstFaults(t *testing.T) {
	dir := t.TempDir()
	body := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	if err := os.WriteFile(filepath.Join(dir, "f.bin"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	want := yum.Checksum{Type: "sha256", Value: hex.EncodeToString(sum[:])}
	// A digest mismatch is not retried (as dnf, with one mirror): a
	// corrupted byte is a permanent fault even when it happens once.
	tests := []struct {
		fault   Fault
		permMsg string // what the permanent failure must say
	}{
		{Status500, "server answered 500 Internal Server Error"},
		{Status503, "server answered 503 Service Unavailable"},
		{Reset, "EOF"},
		{Truncate, "unexpected EOF"},
		{Corrupt, "sha256 checksum mismatch"},
		{Stall, "server stalled: no data for 300ms"},
		{StallBody, "server stalled: no data for 300ms"},
		{Trickle, "transfer too slow"},
	}
	for _, tc := range tests {
		everies := []int{2, 1}
		if tc.fault == Corrupt {
			everies = []int{1}
		}
		for _, every := range everies {
			name := tc.fault.String() + "/transient"
			if every == 1 {
				name = tc.fault.String() + "/permanent"
			}
			t.Run(name, func(t *testing.T) {
				srv := Start(t, dir, Options{Fault: tc.fault, Every: every, Stall: 3 * time.Second, Gap: 100 * time.Millisecond})
				d := &yum.Downloader{Attempts: 3, Backoff: 10 * time.Millisecond, Timeout: 300 * time.Millisecond}
				dest := filepath.Join(t.TempDir(), "out")
				url := srv.URL + "f.bin"
				err := d.Download(context.Background(), url, dest, want, int64(len(body)))
				if srv.Faults() == 0 {
					t.Fatal("no fault was injected")
				}
				if every == 2 {
					if err != nil {
						t.Fatalf("transient %s: %v", tc.fault, err)
					}
					got, _ := os.ReadFile(dest)
					if !bytes.Equal(got, body) {
						t.Fatal("downloaded file differs from the served one")
					}
					return
				}
				if err == nil {
					t.Fatalf("permanent %s: download succeeded", tc.fault)
				}
				if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), tc.permMsg) {
					t.Errorf("error %q does not name %s and %q", err, url, tc.permMsg)
				}
				if _, serr := os.Stat(dest); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("a failed download left %s: %v", dest, serr)
				}
				ents, _ := os.ReadDir(filepath.Dir(dest))
				if len(ents) != 0 {
					t.Errorf("temporary files left behind: %v", ents)
				}
			})
		}
	}
}

// TestBadRepomd: the served repomd.xml names checksums its files do not
// have.
func TestBadRepomd(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "repodata"), 0o755)
	md := `<repomd><data type="primary"><checksum type="sha256">abc</checksum><open-checksum type="sha256">0de</open-checksum></data></repomd>`
	os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(md), 0o644)
	srv := Start(t, dir, Options{Fault: BadRepomd})
	b, err := (&yum.Downloader{}).Get(context.Background(), srv.URL+"repodata/repomd.xml")
	if err != nil {
		t.Fatal(err)
	}
	want := `<repomd><data type="primary"><checksum type="sha256">0bc</checksum><open-checksum type="sha256">1de</open-checksum></data></repomd>`
	if string(b) != want {
		t.Errorf("got %s\nwant %s", b, want)
	}
}

// TestBounded: the server closes itself after MaxRequests.
func TestBounded(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	srv := Start(t, dir, Options{MaxRequests: 2})
	d := &yum.Downloader{Attempts: 1}
	for i := 0; i < 2; i++ {
		if _, err := d.Get(context.Background(), srv.URL+"f"); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if _, err := d.Get(context.Background(), srv.URL+"f"); err == nil {
		t.Fatal("third request answered past MaxRequests")
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := d.Get(context.Background(), srv.URL+"f"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("server still up after its budget: %v", err)
	}
}
