package sew

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/toe"
)

func sha256File(t *testing.T, p string) (string, int64) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), int64(len(b))
}

// patchPrimary makes the metadata entry of the package at file (its
// location in repo) announce the digest and size file has now, after a
// test replaced its bytes, and rewrites repomd.xml to match the new
// primary: the metadata is then self-consistent, and only the package
// itself can betray the swap.
func patchPrimary(t *testing.T, repo, file, oldSum string, oldSize int64) {
	t.Helper()
	newSum, newSize := sha256File(t, file)
	prims, _ := filepath.Glob(filepath.Join(repo, "repodata", "*-primary.xml.gz"))
	if len(prims) != 1 {
		t.Fatalf("primary: %v", prims)
	}
	oldGz, err := os.ReadFile(prims[0])
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(oldGz))
	if err != nil {
		t.Fatal(err)
	}
	oldXML, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	x := string(oldXML)
	if !strings.Contains(x, oldSum) || !strings.Contains(x, fmt.Sprintf(`package="%d"`, oldSize)) {
		t.Fatalf("primary does not mention %s of %d bytes", oldSum, oldSize)
	}
	x = strings.ReplaceAll(x, oldSum, newSum)
	x = strings.Replace(x, fmt.Sprintf(`package="%d"`, oldSize), fmt.Sprintf(`package="%d"`, newSize), 1)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(x))
	zw.Close()
	if err := os.WriteFile(prims[0], gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	hex := func(b []byte) string { s := sha256.Sum256(b); return fmt.Sprintf("%x", s[:]) }
	mdPath := filepath.Join(repo, "repodata", "repomd.xml")
	md, err := os.ReadFile(mdPath)
	if err != nil {
		t.Fatal(err)
	}
	m := string(md)
	for _, r := range [][2]string{
		{hex(oldGz), hex(gz.Bytes())},
		{hex(oldXML), hex([]byte(x))},
		{"<size>" + strconv.Itoa(len(oldGz)) + "</size>", "<size>" + strconv.Itoa(gz.Len()) + "</size>"},
		{"<open-size>" + strconv.Itoa(len(oldXML)) + "</open-size>", "<open-size>" + strconv.Itoa(len(x)) + "</open-size>"},
	} {
		if !strings.Contains(m, r[0]) {
			t.Fatalf("repomd.xml lacks %s", r[0])
		}
		m = strings.Replace(m, r[0], r[1], 1)
	}
	if err := os.WriteFile(mdPath, []byte(m), 0o644); err != nil {
		t.Fatal(err)
	}
}

// payloadBomb rewrites the nfpm package at file so that its payload, a
// gzip stream of 64 KiB, inflates to an entry of 256 MiB where the
// header declares 5 bytes.
func payloadBomb(t *testing.T, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	hp, err := rpmhdr.ReadPackage(bufio.NewReader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	fmt.Fprintf(zw, "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x/a\x00\x00\x00\x00", 1, 0o100644, 0, 0, 1, 0, 256<<20, 0, 0, 0, 0, 3, 0)
	zeros := make([]byte, 1<<20)
	for range 256 {
		zw.Write(zeros)
	}
	zw.Close()
	if err := os.WriteFile(file, append(b[:hp.HeaderEnd:hp.HeaderEnd], bomb.Bytes()...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostileSandbox returns DIR for a SOCK, with an empty sentinel folder
// next to it that nothing may write into.
func hostileSandbox(t *testing.T) (dir, sentinel string) {
	base := t.TempDir()
	sentinel = filepath.Join(base, "sentinel")
	if err := os.Mkdir(sentinel, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "sock"), sentinel
}

func checkEmptyDir(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("something escaped into %s: %v", dir, ents)
	}
}

// TestHostilePackages sews repositories whose packages lie: each must be
// refused with an error naming the package, with nothing written outside
// DIR, and no SOCK marked complete.
func TestHostilePackages(t *testing.T) {
	rpmtest.NeedRoot(t)
	// A path under the host's /tmp that an escaping link would reach.
	hostTmp := "/tmp/sock-sentinel-" + strconv.Itoa(os.Getpid())
	tests := []struct {
		name  string
		rpms  []string
		build func(t *testing.T, repo string)
		want  []string // substrings of the error
	}{
		{"header-says-another-name", []string{"decoy"}, func(t *testing.T, repo string) {
			decoy := rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "decoy", Files: []rpmtest.File{{Path: "/decoy", Body: "decoy\n"}}})
			evil := rpmtest.BuildNfpm(t, t.TempDir(), rpmtest.Pkg{Name: "evil", Files: []rpmtest.File{{Path: "/evil", Body: "evil\n"}}})
			rpmtest.Createrepo(t, repo)
			sum, size := sha256File(t, decoy)
			b, _ := os.ReadFile(evil)
			os.WriteFile(decoy, b, 0o644)
			patchPrimary(t, repo, decoy, sum, size)
		}, []string{"decoy-1.0-1.x86_64", "evil-1.0-1.x86_64", "decoy-1.0-1.x86_64.rpm", "not what the metadata says"}},
		{"zero-byte", []string{"empty"}, func(t *testing.T, repo string) {
			p := rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "empty", Files: []rpmtest.File{{Path: "/e", Body: "e\n"}}})
			rpmtest.Createrepo(t, repo)
			sum, size := sha256File(t, p)
			os.WriteFile(p, nil, 0o644)
			patchPrimary(t, repo, p, sum, size)
		}, []string{"empty-1.0-1.x86_64", "empty-1.0-1.x86_64.rpm"}},
		{"truncated", []string{"cut"}, func(t *testing.T, repo string) {
			noise := make([]byte, 64<<10)
			rand.New(rand.NewSource(1)).Read(noise)
			p := rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "cut", Files: []rpmtest.File{{Path: "/c", Body: string(noise)}}})
			b, _ := os.ReadFile(p)
			hp, err := rpmhdr.ReadPackage(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			// The headers stay whole (createrepo reads them); the
			// payload loses its second half.
			os.WriteFile(p, b[:hp.HeaderEnd+(int64(len(b))-hp.HeaderEnd)/2], 0o644)
			rpmtest.Createrepo(t, repo)
		}, []string{"unpack cut-1.0-1.x86_64"}},
		{"payload-bomb", []string{"small"}, func(t *testing.T, repo string) {
			p := rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "small", Files: []rpmtest.File{{Path: "/a", Body: "hello"}}})
			payloadBomb(t, p)
			rpmtest.Createrepo(t, repo)
		}, []string{"unpack small-1.0-1.x86_64", "/a: payload entry holds 268435456 bytes, header declares 5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			repo := t.TempDir()
			tc.build(t, repo)
			dir, sentinel := hostileSandbox(t)
			foot := &toe.Foot{
				Package: "h", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
				Rpms:  tc.rpms,
				Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{rpmtest.Serve(t, repo)}}},
			}
			_, err := Assemble(context.Background(), foot, dir, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
			if err == nil {
				t.Fatal("sew accepted the hostile package")
			}
			t.Logf("refused: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if st, serr := sockfs.ReadState(dir); serr == nil && st.Status == sockfs.StatusComplete {
				t.Error("SOCK marked complete")
			}
			checkEmptyDir(t, sentinel)
			if _, err := os.Lstat(hostTmp); err == nil {
				t.Errorf("%s exists", hostTmp)
			}
		})
	}

	// A link a first package ships, that a second one's file goes
	// through: it must resolve inside DIR, as in a chroot, or be refused.
	for _, link := range []struct{ name, target, inside string }{
		{"relative-to-sibling", "../../sentinel", "sentinel"},
		{"relative-deep-to-host-tmp", "../../../../../../../../../.." + hostTmp, strings.TrimPrefix(hostTmp, "/")},
		{"absolute-to-host-tmp", hostTmp, strings.TrimPrefix(hostTmp, "/")},
	} {
		t.Run("symlink-then-file/"+link.name, func(t *testing.T) {
			repo := t.TempDir()
			rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "links", Arch: "noarch", Files: []rpmtest.File{
				{Path: "/etc", Type: rpmtest.Dir},
				{Path: "/etc/x", Type: rpmtest.Symlink, Target: link.target},
			}})
			rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "through", Arch: "noarch", Requires: []string{"links"}, Files: []rpmtest.File{
				{Path: "/etc/x/file", Body: "x\n"},
			}})
			rpmtest.Createrepo(t, repo)
			dir, sentinel := hostileSandbox(t)
			foot := &toe.Foot{
				Package: "h", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
				Rpms:  []string{"through"},
				Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{rpmtest.Serve(t, repo)}}},
			}
			_, err := Assemble(context.Background(), foot, dir, Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}})
			t.Logf("sew: %v", err)
			checkEmptyDir(t, sentinel)
			if _, err := os.Lstat(hostTmp); err == nil {
				os.RemoveAll(hostTmp)
				t.Fatalf("%s was created outside DIR", hostTmp)
			}
			if err == nil {
				// Accepted: then the file is inside DIR, where the link
				// points from within the chroot.
				if _, err := os.Lstat(filepath.Join(dir, link.inside, "file")); err != nil {
					t.Errorf("sew succeeded but the file is not in DIR/%s: %v", link.inside, err)
				}
			} else if !strings.Contains(err.Error(), "/etc/x") || !strings.Contains(err.Error(), "through-1.0-1.noarch") {
				t.Errorf("refusal does not name the link and the package: %v", err)
			}
		})
	}
}
