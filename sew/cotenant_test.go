package sew

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sock-project/sock/internal/faultserver"
	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/internal/sockfs"
	"github.com/sock-project/sock/internal/yum"
	"github.com/sock-project/sock/toe"
)

// helloRepo is a repository of one package, hello, whose file
// /usr/share/hello/a says "good", and a trojan of the very same NEVRA and
// size that says something else, kept outside the repository.
func helloRepo(t *testing.T) (repo, trojan string) {
	t.Helper()
	repo = t.TempDir()
	good := rpmtest.BuildNfpm(t, repo, rpmtest.Pkg{Name: "hello", Files: []rpmtest.File{{Path: "/usr/share/hello/a", Body: "good\n"}}})
	rpmtest.Createrepo(t, repo)
	gst, err := os.Stat(good)
	if err != nil {
		t.Fatal(err)
	}
	for i, body := range []string{"evil\n", "EVIL\n", "bad!\n", "pwnd\n", "0wn3\n", "hack\n"} {
		dir := filepath.Join(t.TempDir(), fmt.Sprint(i))
		p := rpmtest.BuildNfpm(t, dir, rpmtest.Pkg{Name: "hello", Files: []rpmtest.File{{Path: "/usr/share/hello/a", Body: body}}})
		if st, err := os.Stat(p); err == nil && st.Size() == gst.Size() {
			return repo, p
		}
	}
	t.Fatal("no trojan of the good package's size")
	return "", ""
}

func helloFoot(base string) *toe.Foot {
	return &toe.Foot{
		Package: "hello-sock", Version: "1", Release: "1", Arch: "x86_64", Releasever: "9",
		Rpms:  []string{"hello"},
		Repos: []toe.Repo{{ID: "t", BaseURL: toe.StringList{base}}},
	}
}

// lockedFoot pins hello by its sha256, as darn writes it.
func lockedFoot(t *testing.T, base string) *toe.Foot {
	t.Helper()
	r := yum.NewRepo("t")
	r.BaseURLs = []string{base}
	md, err := yum.Load(context.Background(), []yum.Repo{r}, yum.LoadOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := md.Packages[0]
	f := helloFoot(base)
	f.Pins = []toe.Rpm{{Name: p.Name, Epoch: int(p.Epoch), Version: p.Version, Release: p.Release, Arch: p.Arch, Repo: "t", Location: p.Location, Sha256: p.Checksum.Value}}
	return f
}

// asUser runs a shell command as another user: the co-tenant acts.
func asUser(t *testing.T, uid, gid int, script string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as uid %d: %s: %v\n%s", uid, script, err, out)
	}
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestCoTenantCache: another user of the machine who can write the cache
// plants a same-size trojan under the good package's cache name; root's
// sew, with and without --locked, refuses that cache (or, where only
// root can write, fetches over a file that does not match) and never
// installs the trojan. A rerun with a cache of its own succeeds.
func TestCoTenantCache(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	repo, trojan := helloRepo(t)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	goodPath, _ := filepath.Glob(filepath.Join(repo, "hello-*.rpm"))
	goodSum := fileSum(t, goodPath[0])
	top, user := rpmtest.UserWorkspace(t, uid, gid)
	trojanCopy := filepath.Join(top, "trojan.rpm") // readable by the co-tenant
	if b, err := os.ReadFile(trojan); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(trojanCopy, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, locked := range []bool{false, true} {
		foot := helloFoot(srv.URL)
		if locked {
			foot = lockedFoot(t, srv.URL)
		}
		opts := func(cache string) Options {
			return Options{PlanOptions: PlanOptions{CacheDir: cache, Locked: locked}, Scripts: ScriptsNever}
		}
		for _, tc := range []struct {
			name string
			// prepare makes the cache as root before the co-tenant acts.
			prepare func(cache string)
			want    string
		}{
			{"cache made by the co-tenant", func(cache string) {
				asUser(t, uid, gid, "mkdir -m 0755 "+cache)
			}, "belongs to another user"},
			{"world-writable cache", func(cache string) {
				os.Mkdir(cache, 0o755)
				os.Chmod(cache, 0o777)
			}, "is writable by group or others"},
			{"world-writable packages folder", func(cache string) {
				os.MkdirAll(filepath.Join(cache, "packages"), 0o755)
				os.Chmod(filepath.Join(cache, "packages"), 0o777)
			}, "is writable by group or others"},
		} {
			t.Run(fmt.Sprintf("locked=%v/%s", locked, tc.name), func(t *testing.T) {
				cache := filepath.Join(user, strings.ReplaceAll(tc.name, " ", "-")+fmt.Sprint(locked))
				tc.prepare(cache)
				asUser(t, uid, gid, "mkdir -p "+cache+"/packages && cp "+trojanCopy+" "+cache+"/packages/"+goodSum+".rpm")
				dir := filepath.Join(t.TempDir(), "sock")
				_, err := Assemble(context.Background(), foot, dir, opts(cache))
				var ce *yum.CacheDirError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cache folder "+cache) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("sew: %v\nwant a CacheDirError naming %s and %q", err, cache, tc.want)
				}
				if _, err := os.Stat(filepath.Join(dir, "usr/share/hello/a")); err == nil {
					t.Fatal("the refused sew installed hello")
				}
				// The rerun with a cache of root's own installs the good package.
				if _, err := Assemble(context.Background(), foot, dir, opts(t.TempDir())); err != nil {
					t.Fatalf("rerun with a private cache: %v", err)
				}
				if b, _ := os.ReadFile(filepath.Join(dir, "usr/share/hello/a")); string(b) != "good\n" {
					t.Fatalf("installed %q", b)
				}
			})
		}

		t.Run(fmt.Sprintf("locked=%v/trojan in a private cache", locked), func(t *testing.T) {
			// Planted by whatever means (a restored backup, a bug): a file
			// of the right name and size is still fetched over.
			cache := t.TempDir()
			os.MkdirAll(filepath.Join(cache, "packages"), 0o755)
			b, _ := os.ReadFile(trojan)
			os.WriteFile(filepath.Join(cache, "packages", goodSum+".rpm"), b, 0o644)
			dir := filepath.Join(t.TempDir(), "sock")
			if _, err := Assemble(context.Background(), foot, dir, opts(cache)); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "usr/share/hello/a")); string(b) != "good\n" {
				t.Fatalf("installed %q: the planted file was used", b)
			}
			if got := fileSum(t, filepath.Join(cache, "packages", goodSum+".rpm")); got != goodSum {
				t.Fatal("the cache still holds the trojan")
			}
		})
	}
}

// TestHostileRepoSew: a remote primary.xml whose xml:base is file:///
// (which made sew open a host file) and one whose checksum type is a path
// (which made sew take a local RPM outside the cache) both fail naming
// the repository; the SOCK is not complete, the host file untouched, and
// the same DIR and cache then sew from the good repository.
func TestHostileRepoSew(t *testing.T) {
	rpmtest.NeedRoot(t)
	repo, trojan := helloRepo(t)
	trojanSum := fileSum(t, trojan)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	goodMD, err := os.ReadFile(filepath.Join(repo, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sub  func(string) string
		want string
	}{
		{"xml:base file", func(s string) string {
			return strings.Replace(s, `<location href="`, `<location xml:base="file://`+filepath.Dir(trojan)+`/" href="`, 1)
		}, `xml:base location "file://` + filepath.Dir(trojan) + `/" is a file URL`},
		{"checksum type path", func(s string) string {
			return strings.Replace(s, `<checksum type="sha256" pkgid="YES">`, `<checksum type="../../../..`+filepath.Dir(trojan)+`/hello-1.0-1.x86_64" pkgid="YES">`, 1)
		}, `is not one dnf accepts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evil := filepath.Join(t.TempDir(), "repo")
			if out, err := exec.Command("cp", "-a", repo, evil).CombinedOutput(); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			rewritePrimary(t, evil, tc.sub)
			esrv := faultserver.Start(t, evil, faultserver.Options{})
			dir := filepath.Join(t.TempDir(), "sock")
			cache := t.TempDir()
			_, err := Assemble(context.Background(), helloFoot(esrv.URL), dir, Options{PlanOptions: PlanOptions{CacheDir: cache}, Scripts: ScriptsNever})
			if err == nil || !strings.Contains(err.Error(), esrv.URL) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sew: %v\nwant an error naming %s and %q", err, esrv.URL, tc.want)
			}
			if st, err := sockfs.ReadState(dir); err == nil && st.Status == sockfs.StatusComplete {
				t.Fatal("a failed sew marked the SOCK complete")
			}
			if fileSum(t, trojan) != trojanSum {
				t.Fatal("the host file changed")
			}
			if n := checkCache(t, cache); n != 0 {
				t.Errorf("the cache holds %d packages after a refused repository", n)
			}
			if _, err := Assemble(context.Background(), helloFoot(srv.URL), dir, Options{PlanOptions: PlanOptions{CacheDir: cache}, Scripts: ScriptsNever}); err != nil {
				t.Fatalf("rerun against the good repository: %v", err)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "usr/share/hello/a")); string(b) != "good\n" {
				t.Fatalf("installed %q", b)
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(repo, "repodata", "repomd.xml")); string(b) != string(goodMD) {
		t.Fatal("the good repository changed")
	}
}

// rewritePrimary edits a repository's primary.xml (decompressed) and
// regenerates repomd.xml over it with createrepo_c's --update off: the
// simplest way is to write the XML back and fix repomd.xml's digests.
func rewritePrimary(t *testing.T, dir string, sub func(string) string) {
	t.Helper()
	prims, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-primary.xml.gz"))
	if len(prims) != 1 {
		t.Fatalf("primary: %v", prims)
	}
	gz := prims[0]
	out, err := exec.Command("sh", "-c", "gzip -dc "+gz).Output()
	if err != nil {
		t.Fatal(err)
	}
	edited := sub(string(out))
	if edited == string(out) {
		t.Fatal("edit changed nothing")
	}
	oldGz, _ := os.ReadFile(gz)
	if err := os.WriteFile(strings.TrimSuffix(gz, ".gz"), []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(gz)
	if out, err := exec.Command("gzip", "-n", strings.TrimSuffix(gz, ".gz")).CombinedOutput(); err != nil {
		t.Fatalf("gzip: %v\n%s", err, out)
	}
	newGz, _ := os.ReadFile(gz)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	mdFile := filepath.Join(dir, "repodata", "repomd.xml")
	md, _ := os.ReadFile(mdFile)
	s := strings.Replace(string(md), sum(oldGz), sum(newGz), 1)
	s = strings.Replace(s, sum(out), sum([]byte(edited)), 1)
	s = strings.Replace(s, fmt.Sprintf("<size>%d</size>", len(oldGz)), fmt.Sprintf("<size>%d</size>", len(newGz)), 1)
	s = strings.Replace(s, fmt.Sprintf("<open-size>%d</open-size>", len(out)), fmt.Sprintf("<open-size>%d</open-size>", len(edited)), 1)
	if err := os.WriteFile(mdFile, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDirModes: a DIR (or a parent) that another user owns or may write
// is refused, naming the path, its owner and its mode; the DIR sew makes
// is 0700 while it builds and 0755 once complete.
func TestDirModes(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	repo, _ := helloRepo(t)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	foot := helloFoot(srv.URL)
	opts := Options{PlanOptions: PlanOptions{CacheDir: t.TempDir()}, Scripts: ScriptsNever}
	top, user := rpmtest.UserWorkspace(t, uid, gid)
	for _, tc := range []struct {
		name  string
		setup func() (dir, culprit string)
		want  string
	}{
		{"empty DIR made by another user", func() (string, string) {
			d := filepath.Join(user, "theirs")
			asUser(t, uid, gid, "mkdir -m 0755 "+d)
			return d, d
		}, fmt.Sprintf("(owner uid %d, mode 0755) belongs to another user (sew runs as uid 0)", uid)},
		{"parent of another user", func() (string, string) {
			return filepath.Join(user, "sub", "sock"), user
		}, fmt.Sprintf("(owner uid %d, mode 0755) belongs to another user", uid)},
		{"group-writable DIR", func() (string, string) {
			d := filepath.Join(top, "gw")
			os.Mkdir(d, 0o755)
			os.Chmod(d, 0o775)
			return d, d
		}, "(owner uid 0, mode 0775) is writable by group or others"},
		{"world-writable parent", func() (string, string) {
			p := filepath.Join(top, "ww")
			os.Mkdir(p, 0o755)
			os.Chmod(p, 0o777)
			return filepath.Join(p, "sock"), p
		}, "(owner uid 0, mode 0777) is writable by group or others"},
		{"DIR is a link", func() (string, string) {
			d := filepath.Join(top, "link")
			os.Symlink(t.TempDir(), d)
			return d, d
		}, "is a symbolic link"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, culprit := tc.setup()
			_, err := Assemble(context.Background(), foot, dir, opts)
			var de *DirModeError
			if !errors.As(err, &de) || de.Path != culprit || !strings.Contains(err.Error(), culprit+" (owner uid") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("sew: %v\nwant a DirModeError naming %s and %q", err, culprit, tc.want)
			}
			if _, err := os.Lstat(filepath.Join(dir, sockfs.StateDir)); err == nil {
				t.Fatal("the refused sew wrote into DIR")
			}
		})
	}

	t.Run("a sticky parent is fine; DIR is 0700 while sew builds", func(t *testing.T) {
		p := filepath.Join(top, "sticky")
		os.Mkdir(p, 0o755)
		os.Chmod(p, os.ModeSticky|0o777)
		dir := filepath.Join(p, "sock")
		srv.Set(faultserver.Options{Fault: faultserver.Stall, Stall: 1500 * time.Millisecond, Match: func(p string) bool { return strings.HasSuffix(p, ".rpm") }})
		defer srv.Set(faultserver.Options{})
		done := make(chan error, 1)
		go func() {
			_, err := Assemble(context.Background(), foot, dir, opts)
			done <- err
		}()
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := sockfs.ReadState(dir); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("sew never started")
			}
			time.Sleep(10 * time.Millisecond)
		}
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("DIR while building: %v, %v; want 0700", st.Mode(), err)
		}
		// The other user cannot look in.
		cmd := exec.Command("/bin/ls", dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("uid %d listed DIR while sew built:\n%s", uid, out)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("DIR once complete: %v, %v; want 0755", st.Mode(), err)
		}
	})
}

// TestDirModesRootlessHelper is the half of TestDirModesRootless that
// runs as the ordinary user.
func TestDirModesRootlessHelper(t *testing.T) {
	base, dir, cache := os.Getenv("SOCK_HELPER_BASE"), os.Getenv("SOCK_HELPER_DIR"), os.Getenv("SOCK_HELPER_CACHE")
	if base == "" {
		t.Skip("run by TestDirModesRootless only")
	}
	_, err := Assemble(context.Background(), helloFoot(base), dir, Options{PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsNever})
	var de *DirModeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), dir+" (owner uid 0, mode 0755) belongs to another user") {
		t.Fatalf("sew into root's DIR: %v", err)
	}
	_, err = Assemble(context.Background(), helloFoot(base), filepath.Join(filepath.Dir(dir), "mine"), Options{PlanOptions: PlanOptions{CacheDir: cache}, Scripts: ScriptsNever})
	var ce *yum.CacheDirError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cache folder "+cache+" (owner uid 0") {
		t.Fatalf("sew with root's cache: %v", err)
	}
	mine := filepath.Join(filepath.Dir(dir), "mine")
	if _, err := Assemble(context.Background(), helloFoot(base), mine, Options{PlanOptions: PlanOptions{CacheDir: filepath.Join(filepath.Dir(dir), "cache")}, Scripts: ScriptsNever}); err != nil {
		t.Fatalf("sew into a DIR of one's own: %v", err)
	}
}

// TestDirModesRootless: as the ordinary user, an empty DIR root made
// and a cache of root's are refused; a DIR of one's own works.
func TestDirModesRootless(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	repo, _ := helloRepo(t)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	top, user := rpmtest.UserWorkspace(t, uid, gid)
	dir := filepath.Join(user, "roots")
	os.Mkdir(dir, 0o755) // root's
	cache := filepath.Join(top, "rootcache")
	os.Mkdir(cache, 0o755)
	rpmtest.RunTestAs(t, uid, gid, user, "TestDirModesRootlessHelper", "SOCK_HELPER_BASE="+srv.URL, "SOCK_HELPER_DIR="+dir, "SOCK_HELPER_CACHE="+cache)
}

// TestMaxDownload: an rpm given by URL has no announced size; the nail's
// max_download (or PlanOptions.MaxDownload, --max-download) caps it.
func TestMaxDownload(t *testing.T) {
	repo, _ := helloRepo(t)
	srv := faultserver.Start(t, repo, faultserver.Options{})
	rpms, _ := filepath.Glob(filepath.Join(repo, "hello-*.rpm"))
	u := srv.URL + filepath.Base(rpms[0])
	foot := &toe.Foot{Package: "hello-sock", Version: "1", Release: "1", Arch: "x86_64", Rpms: []string{u}, MaxDownload: "1k"}
	cache := t.TempDir()
	_, err := MakePlan(context.Background(), foot, PlanOptions{CacheDir: cache})
	var se *yum.SizeError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), u+": server sent more than 1024 bytes, the download cap") {
		t.Fatalf("plan: %v", err)
	}
	if n := checkCache(t, cache); n != 0 {
		t.Fatalf("the cache holds %d packages", n)
	}
	if _, err := MakePlan(context.Background(), foot, PlanOptions{CacheDir: cache, MaxDownload: 1 << 20}); err != nil {
		t.Fatalf("plan with a larger cap: %v", err)
	}
}
