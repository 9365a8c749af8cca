package pair

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/sock-project/sock/internal/rpmtest"
	"github.com/sock-project/sock/toe"
)

// imageFoot is pairFoot with an [image] table.
func imageFoot(repo string) *toe.Foot {
	f := pairFoot(repo)
	f.Image = &toe.Image{
		Tag:          "test",
		Entrypoint:   []string{"/bin/sh", "-c"},
		Cmd:          []string{`echo "$GREETING from $(pwd)"; while read k v; do [ "$k" = Uid: ] && echo "uid $v"; done </proc/self/status`},
		User:         "app",
		Env:          map[string]string{"GREETING": "hello"},
		Workdir:      "/srv",
		Labels:       map[string]string{"org.opencontainers.image.version": "1.2-3"},
		ExposedPorts: []string{"8080/tcp", "53/udp"},
	}
	return f
}

// layout reads an OCI layout's index, manifest and config, checking that
// every blob matches its digest and size.
func layout(t *testing.T, dir string) (v1.Index, v1.Manifest, v1.Image) {
	t.Helper()
	var idx v1.Index
	readJSON(t, filepath.Join(dir, "index.json"), &idx)
	if len(idx.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests", len(idx.Manifests))
	}
	blob := func(d v1.Descriptor) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", d.Digest.Algorithm().String(), d.Digest.Encoded()))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Digest.Validate(); err != nil || d.Digest.Algorithm().FromBytes(b) != d.Digest || int64(len(b)) != d.Size {
			t.Fatalf("blob %s: size %d, want %d, or digest mismatch", d.Digest, len(b), d.Size)
		}
		return b
	}
	var man v1.Manifest
	if err := json.Unmarshal(blob(idx.Manifests[0]), &man); err != nil {
		t.Fatal(err)
	}
	var cfg v1.Image
	if err := json.Unmarshal(blob(man.Config), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range man.Layers {
		blob(l)
	}
	return idx, man, cfg
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(rpmtest.NeedTool(t, name), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// imageDigest is the manifest digest index.json names: the image's
// identity for a registry and a runtime.
func imageDigest(t *testing.T, dir string) string {
	idx, _, _ := layout(t, dir)
	return idx.Manifests[0].Digest.String()
}

// TestOCIConfig writes an image of a small rootless SOCK and checks what
// skopeo reads from it, the config the nail asked for, the layer's
// entries and the archive form.
func TestOCIConfig(t *testing.T) {
	dir := fakeSock(t, "complete")
	foot := fakeFoot()
	foot.Arch = "aarch64"
	foot.Image = &toe.Image{
		Entrypoint: []string{"/usr/bin/app"}, Cmd: []string{"-v"}, User: "root:0", Workdir: "/etc",
		Env:          map[string]string{"A": "1", "PATH": "/usr/bin"},
		Labels:       map[string]string{"l": "v"},
		ExposedPorts: []string{"80/tcp"},
	}
	out := t.TempDir()
	p, err := Build(context.Background(), foot, dir, Options{Format: FormatOCI, OutDir: out, SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "fake-1-1.aarch64.oci" {
		t.Errorf("image folder %s", p)
	}
	idx, man, cfg := layout(t, p)
	if got := idx.Manifests[0].Annotations[v1.AnnotationRefName]; got != "1-1" {
		t.Errorf("default tag %q, want 1-1", got)
	}
	want := v1.ImageConfig{
		User: "root:0", Entrypoint: []string{"/usr/bin/app"}, Cmd: []string{"-v"}, WorkingDir: "/etc",
		Env: []string{"A=1", "PATH=/usr/bin"}, Labels: map[string]string{"l": "v"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}},
	}
	if d := cmp.Diff(want, cfg.Config); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	if cfg.Architecture != "arm64" || cfg.OS != "linux" || cfg.Created.Unix() != epoch || len(cfg.RootFS.DiffIDs) != 1 {
		t.Errorf("config: arch %s os %s created %v rootfs %+v", cfg.Architecture, cfg.OS, cfg.Created, cfg.RootFS)
	}
	if len(man.Layers) != 1 || man.Layers[0].MediaType != v1.MediaTypeImageLayerGzip {
		t.Fatalf("layers %+v", man.Layers)
	}

	var insp struct {
		Architecture, Os string
		Digest           string
		Labels           map[string]string
		Layers           []string
	}
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "oci:"+p+":1-1")), &insp); err != nil {
		t.Fatal(err)
	}
	if insp.Architecture != "arm64" || insp.Os != "linux" || insp.Digest != idx.Manifests[0].Digest.String() || insp.Labels["l"] != "v" || len(insp.Layers) != 1 {
		t.Errorf("skopeo inspect: %+v", insp)
	}

	// The layer: sorted, numeric owners, the manifest's setuid bit,
	// times clamped, no root entry, no sew state, no device.
	f, err := os.Open(filepath.Join(p, "blobs", "sha256", man.Layers[0].Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uname != "" || h.Gname != "" || h.ModTime.Unix() > epoch {
			t.Errorf("%s: uname %q gname %q mtime %v", h.Name, h.Uname, h.Gname, h.ModTime)
		}
		got = append(got, h.Name+" "+string(rune(h.Typeflag))+" "+modeOf(h))
	}
	wantEntries := []string{
		"etc/ 5 0755", "etc/app.conf 0 0644", "etc/passwd 0 0644", "usr/ 5 0755", "usr/bin/ 5 0755",
		"usr/bin/app 0 4755", "usr/bin/app2 2 0777",
	}
	if d := cmp.Diff(wantEntries, got); d != "" {
		t.Errorf("layer entries (-want +got):\n%s", d)
	}

	// The archive holds the same image.
	a, err := Build(context.Background(), foot, dir, Options{Format: FormatOCIArchive, OutDir: out, SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(a) != "fake-1-1.aarch64.oci.tar" {
		t.Errorf("archive %s", a)
	}
	var ainsp struct{ Digest string }
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "oci-archive:"+a)), &ainsp); err != nil {
		t.Fatal(err)
	}
	if ainsp.Digest != insp.Digest {
		t.Errorf("oci-archive digest %s, layout %s", ainsp.Digest, insp.Digest)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 2 {
		t.Errorf("output folder holds %v, want the layout and the archive only", ents)
	}
}

func modeOf(h *tar.Header) string { return fmt.Sprintf("%04o", h.Mode) }

// TestOCIRefusals checks what pair refuses before it writes anything.
func TestOCIRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  *toe.Image
		arch string
		opts Options
		want string
	}{
		{name: "unknown user", img: &toe.Image{User: "nobody"}, want: `[image] user "nobody": no such user in the SOCK's /etc/passwd`},
		{name: "unknown group", img: &toe.Image{User: "root:wheel"}, want: `[image] user "root:wheel": no such group in the SOCK's /etc/group`},
		{name: "arch", arch: "sparc64", want: `arch "sparc64" has no OCI name`},
		{name: "compression", opts: Options{Compression: "zstd"}, want: `compression "zstd": an image layer is gzip or gzip:LEVEL (1-9)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := fakeSock(t, "complete")
			foot := fakeFoot()
			foot.Image = tc.img
			if tc.arch != "" {
				foot.Arch = tc.arch
			}
			tc.opts.Format, tc.opts.OutDir = FormatOCI, t.TempDir()
			_, err := Build(context.Background(), foot, dir, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if ents, _ := os.ReadDir(tc.opts.OutDir); len(ents) != 0 {
				t.Errorf("output folder not empty: %v", ents)
			}
		})
	}
	// A folder that is not an image is not replaced.
	dir := fakeSock(t, "complete")
	out := t.TempDir()
	keep := filepath.Join(out, "fake-1-1.x86_64.oci")
	if err := os.MkdirAll(filepath.Join(keep, "precious"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), fakeFoot(), dir, Options{Format: FormatOCI, OutDir: out})
	if err == nil || !strings.HasSuffix(err.Error(), "exists and is not an OCI image layout: not replacing it") {
		t.Fatalf("error %v", err)
	}
	if _, err := os.Stat(filepath.Join(keep, "precious")); err != nil {
		t.Errorf("the folder was touched: %v", err)
	}

	// A name a runtime would read as a whiteout is refused, not
	// silently dropped by whoever unpacks the layer.
	if err := os.WriteFile(filepath.Join(dir, "etc", ".wh.passwd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	_, err = Build(context.Background(), fakeFoot(), dir, Options{Format: FormatOCI, OutDir: out})
	if want := "/etc/.wh.passwd: a name starting with .wh. is a whiteout in an OCI layer and cannot be packaged"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("output folder not empty: %v", ents)
	}
}

// TestOCIRootlessHelper is the half of TestOCIRootlessEqualsRoot that
// runs as the ordinary user: sew without root, then write the image, the
// archive and the tarball.
func TestOCIRootlessHelper(t *testing.T) {
	repo, top := os.Getenv("SOCK_HELPER_OCI_REPO"), os.Getenv("SOCK_HELPER_TOP")
	if repo == "" {
		t.Skip("run by TestOCIRootlessEqualsRoot only")
	}
	dir := filepath.Join(top, "sock")
	sewIt(t, imageFoot(repo), dir, filepath.Join(top, "cache"))
	for _, f := range []string{FormatOCI, FormatOCIArchive, FormatTar} {
		if _, err := Build(context.Background(), imageFoot(repo), dir, Options{Format: f, OutDir: filepath.Join(top, "out"), SourceDateEpoch: epoch}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOCIRootlessEqualsRoot sews the test SOCK as root and as an
// ordinary user, writes its image from each (the root one twice), and
// wants one digest; then it checks that umoci unpacks the image, as root
// and with --rootless, into the SOCK path by path, that GNU tar extracts
// the plain tarball into the SOCK, and, where podman can run a
// container here, that the entrypoint runs as the image says.
func TestOCIRootlessEqualsRoot(t *testing.T) {
	_, uid, gid := rpmtest.TestUser(t)
	rpmtest.NeedTool(t, "skopeo")
	umoci := rpmtest.NeedTool(t, "umoci")
	top, user := rpmtest.UserWorkspace(t, uid, gid)
	repo := filepath.Join(top, "repo")
	pairRepo(t, repo)
	rpmtest.RunTestAs(t, uid, gid, user, "TestOCIRootlessHelper", "SOCK_HELPER_OCI_REPO="+repo, "SOCK_HELPER_TOP="+user)
	name := "app-sock-1.2-3.x86_64"

	sock := filepath.Join(top, "root", "sock")
	sewIt(t, imageFoot(repo), sock, filepath.Join(top, "root", "cache"))
	var digests []string
	var image, archive, tarball string
	for i := range 2 {
		out := filepath.Join(top, "root", "out"+string(rune('0'+i)))
		var err error
		if image, err = Build(context.Background(), imageFoot(repo), sock, Options{Format: FormatOCI, OutDir: out, SourceDateEpoch: epoch}); err != nil {
			t.Fatal(err)
		}
		digests = append(digests, imageDigest(t, image))
		if archive, err = Build(context.Background(), imageFoot(repo), sock, Options{Format: FormatOCIArchive, OutDir: out, SourceDateEpoch: epoch}); err != nil {
			t.Fatal(err)
		}
		if tarball, err = Build(context.Background(), imageFoot(repo), sock, Options{Format: FormatTar, OutDir: out, SourceDateEpoch: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	rootless := filepath.Join(user, "out", name+".oci")
	digests = append(digests, imageDigest(t, rootless))
	if digests[0] != digests[1] || digests[0] != digests[2] {
		t.Errorf("image digests differ: root %s, root again %s, rootless %s", digests[0], digests[1], digests[2])
	}
	for _, f := range []string{".oci.tar", ".tar"} {
		a, err := os.ReadFile(filepath.Join(top, "root", "out0", name+f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(user, "out", name+f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s: the root and rootless files differ", f)
		}
	}
	_, _, cfg := layout(t, image)
	if cfg.Config.User != "app" || cfg.Config.WorkingDir != "/srv" || cfg.Architecture != "amd64" ||
		!cmp.Equal(cfg.Config.Env, []string{"GREETING=hello", "PATH=" + defaultPath}) {
		t.Errorf("config %+v", cfg)
	}

	// What the SOCK is, as an image should hold it: no sew state, no
	// device nodes, mtimes clamped.
	want := rpmtest.Snapshot(t, sock, "/.sock")
	for p, n := range want {
		if n.Type == "dev" {
			delete(want, p)
			continue
		}
		n.MTime = min(n.MTime, epoch)
		want[p] = n
	}
	delete(want, "/")
	if want["/usr/bin/ping"].Caps == "" || want["/usr/lib64/h1"].Links == "" || want["/usr/bin/app"].Mode != "4750" {
		t.Fatalf("the test SOCK lacks what it should exercise: %+v %+v %+v", want["/usr/bin/ping"], want["/usr/lib64/h1"], want["/usr/bin/app"])
	}
	unpacked := func(rootfs string) map[string]rpmtest.Node {
		got := rpmtest.Snapshot(t, rootfs)
		delete(got, "/")
		return got
	}
	bundle := filepath.Join(top, "bundle")
	run(t, umoci, "unpack", "--image", image+":test", bundle)
	if d := cmp.Diff(want, unpacked(filepath.Join(bundle, "rootfs"))); d != "" {
		t.Errorf("umoci unpack differs from the SOCK (-sock +unpacked):\n%s", d)
	}
	// umoci's runtime config is the image's, the user resolved
	// through the SOCK's /etc/passwd.
	var rt struct {
		Process struct {
			Args []string
			Env  []string
			Cwd  string
			User struct{ UID, GID uint32 }
		}
	}
	readJSON(t, filepath.Join(bundle, "config.json"), &rt)
	img := imageFoot(repo).Image
	if p := rt.Process; !cmp.Equal(p.Args, append(img.Entrypoint, img.Cmd...)) || p.Cwd != "/srv" || p.User.UID != 500 || p.User.GID != 500 ||
		!slices.Contains(p.Env, "GREETING=hello") || !slices.Contains(p.Env, "PATH="+defaultPath) {
		t.Errorf("umoci's runtime config: %+v", p)
	}
	// Rootless, umoci gives every file to the user that unpacks; the
	// owners are in the layer (checked above through the digest and
	// the root unpack).
	rbundle := filepath.Join(top, "rbundle")
	run(t, umoci, "unpack", "--rootless", "--image", rootless+":test", rbundle)
	got := unpacked(filepath.Join(rbundle, "rootfs"))
	for p, n := range got {
		w, ok := want[p]
		if !ok {
			continue
		}
		n.UID, n.GID = w.UID, w.GID
		if w.Caps != "" && n.Caps == "" {
			n.Caps = w.Caps // an unprivileged unpack cannot set security.capability
		}
		got[p] = n
	}
	if d := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool {
		return strings.HasSuffix(p.String(), "Mode") // rootless umoci keeps the owner able to read and write
	}, cmp.Ignore())); d != "" {
		t.Errorf("umoci unpack --rootless differs from the SOCK (-sock +unpacked):\n%s", d)
	}

	// The plain tarball, extracted by GNU tar as root, is the SOCK, device
	// nodes included.
	x := filepath.Join(top, "x")
	if err := os.Mkdir(x, 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "--numeric-owner", "--xattrs", "--xattrs-include=security.capability", "-xpf", tarball, "-C", x)
	wantAll := rpmtest.Snapshot(t, sock, "/.sock")
	for p, n := range wantAll {
		n.MTime = min(n.MTime, epoch)
		if n.Type == "dev" || n.Type == "fifo" {
			n.MTime = epoch
		}
		wantAll[p] = n
	}
	if d := cmp.Diff(wantAll, rpmtest.Snapshot(t, x)); d != "" {
		t.Errorf("tar -x of the tarball differs from the SOCK (-sock +extracted):\n%s", d)
	}

	t.Run("podman", func(t *testing.T) { podmanRun(t, archive) })
}

// podmanRun runs the image's entrypoint with podman where this machine
// can run a container, and checks that it ran as the config says: the
// env, the workdir and the user. The container gets the host's hard
// limits, since podman's defaults may exceed what the machine allows.
func podmanRun(t *testing.T, archive string) {
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed: not running the image (apt-get install podman)")
	}
	// podman wants a short runroot: not under t.TempDir.
	store, err := os.MkdirTemp("", "sockpm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(store) })
	args := []string{"--root", filepath.Join(store, "root"), "--runroot", filepath.Join(store, "run"), "--storage-driver", "vfs",
		"run", "--rm", "--network", "none"}
	for _, l := range []struct {
		name string
		res  int
	}{{"nofile", unix.RLIMIT_NOFILE}, {"nproc", unix.RLIMIT_NPROC}} {
		var r unix.Rlimit
		if err := unix.Getrlimit(l.res, &r); err == nil && r.Max < 1<<31 {
			args = append(args, "--ulimit", fmt.Sprintf("%s=%d:%d", l.name, r.Max, r.Max))
		}
	}
	out, err := exec.Command(podman, append(args, "oci-archive:"+archive)...).CombinedOutput()
	if err != nil {
		// Failures of the machine, not of the image: the runtime may
		// not set limits or cgroups in this VM.
		for _, env := range []string{"setrlimit", "OCI permission denied", "cgroup"} {
			if bytes.Contains(out, []byte(env)) {
				why := ""
				if !hasCapSysResource() {
					why = "; this machine withholds CAP_SYS_RESOURCE, which the runtime needs to set the container's limits"
				}
				t.Skipf("podman cannot run a container on this machine (%v%s): not running the image:\n%s", err, why, out)
			}
		}
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	if got, want := string(out), "hello from /srv\nuid 500\t500\t500\t500\n"; !strings.HasSuffix(got, want) {
		t.Errorf("podman run printed %q, want it to end with %q", got, want)
	}
}

// hasCapSysResource reports whether CAP_SYS_RESOURCE (24) is in this
// process's bounding set.
func hasCapSysResource() bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			var bnd uint64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%x", &bnd); err == nil {
				return bnd&(1<<24) != 0
			}
		}
	}
	return true
}

// TestTarEntries writes the plain tarball of a small rootless SOCK: the
// root entry, path order, numeric owners, the manifest's modes, the
// nail's device node, times clamped.
func TestTarEntries(t *testing.T) {
	dir := fakeSock(t, "complete")
	p, err := Build(context.Background(), fakeFoot(), dir, Options{Format: FormatTar, OutDir: t.TempDir(), SourceDateEpoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "fake-1-1.x86_64.tar" {
		t.Errorf("tarball %s", p)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uname != "" || h.Gname != "" || h.ModTime.Unix() > epoch {
			t.Errorf("%s: uname %q gname %q mtime %v", h.Name, h.Uname, h.Gname, h.ModTime)
		}
		got = append(got, fmt.Sprintf("%s %c %s %d:%d %d,%d", h.Name, h.Typeflag, modeOf(h), h.Uid, h.Gid, h.Devmajor, h.Devminor))
	}
	want := []string{
		"./ 5 0755 0:0 0,0", "dev/null 3 0666 0:0 1,3", "etc/ 5 0755 0:0 0,0", "etc/app.conf 0 0644 0:0 0,0",
		"etc/passwd 0 0644 0:0 0,0", "usr/ 5 0755 0:0 0,0", "usr/bin/ 5 0755 0:0 0,0",
		"usr/bin/app 0 4755 0:0 0,0", "usr/bin/app2 2 0777 0:0 0,0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("tarball entries (-want +got):\n%s", d)
	}
}

func TestDefaultTag(t *testing.T) {
	for _, tc := range []struct{ v, r, want string }{
		{"1.2", "3.el9", "1.2-3.el9"},
		{"1.0~rc1", "1", "1.0_rc1-1"},
		{"2.0^20240101git", "0+local", "2.0_20240101git-0_local"},
		{".1", "1", "_1-1"},
	} {
		if got := defaultTag(&toe.Foot{Version: tc.v, Release: tc.r}); got != tc.want {
			t.Errorf("defaultTag(%s-%s) = %q, want %q", tc.v, tc.r, got, tc.want)
		}
	}
}

func TestOCIArch(t *testing.T) {
	for rpmArch, want := range map[string]string{
		"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7hl": "arm/v7", "ppc64le": "ppc64le", "s390x": "s390x",
	} {
		a, v, err := ociArch(rpmArch)
		got := a
		if v != "" {
			got += "/" + v
		}
		if err != nil || got != want {
			t.Errorf("ociArch(%s) = %s, %v; want %s", rpmArch, got, err, want)
		}
	}
}
