package toe

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestImageErrors checks that every [image] key is linted with the
// position of what is wrong.
func TestImageErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown key", "[image]\nentrypiont = [\"/x\"]\n", []string{`n.toml:2:1: unknown key "entrypiont" (did you mean "entrypoint"?)`}},
		{"entrypoint string", "[image]\nentrypoint = \"/x\"\n", []string{`n.toml:2:14: entrypoint must be an array, not a string`}},
		{"cmd element", "[image]\ncmd = [\"a\", 2]\n", []string{`n.toml:2:13: cmd element must be a string, not an integer`}},
		{"empty entrypoint", "[image]\nentrypoint = []\n", []string{`n.toml:2:14: entrypoint is empty`}},
		{"tag", "[image]\ntag = \"-bad:x\"\n", []string{`n.toml:2:7: tag "-bad:x" is not an image tag (letters, digits, _ . -, at most 128, not starting with . or -)`}},
		{"user", "[image]\nuser = \"a:b:c\"\n", []string{`n.toml:2:8: user "a:b:c": want name, uid, name:group or uid:gid`}},
		{"workdir", "[image]\nworkdir = \"srv\"\n", []string{`n.toml:2:11: workdir "srv" is not an absolute path`}},
		{"port number", "[image]\nexposed_ports = [\"80\", \"99999/tcp\"]\n", []string{`n.toml:2:24: exposed_ports entry "99999/tcp": want PORT or PORT/PROTO with PORT from 1 to 65535`}},
		{"port proto", "[image]\nexposed_ports = [\"53/icmp\"]\n", []string{`n.toml:2:18: exposed_ports entry "53/icmp": protocol "icmp" is not tcp, udp or sctp`}},
		{"env value", "[image.env]\nPATH = \"/bin\"\nDEBUG = 1\n", []string{`n.toml:3:9: DEBUG must be a string, not an integer`}},
		{"env name", "[image]\nenv = { \"A=B\" = \"x\" }\n", []string{`n.toml:2:9: env name "A=B" is not a variable name`}},
		{"labels table", "[image]\nlabels = \"x\"\n", []string{`n.toml:2:10: labels must be a table, not a string`}},
		{"undefined var", "[image.labels]\nv = \"${releasevr}\"\n", []string{`n.toml:2:6: undefined variable ${releasevr} (did you mean ${releasever}?)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("n.toml", []byte(tt.src), testOpts)
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse error = %v, want an ErrorList", err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Error())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("errors (-want +got):\n%s", d)
			}
		})
	}
}

// TestImageMerge checks that a later nail's [image] keys replace an
// included nail's, that env and labels merge name by name, and that ports
// are written with their protocol.
func TestImageMerge(t *testing.T) {
	dir := t.TempDir()
	write(t, dir+"/base.toml", `
[image]
tag = "base"
entrypoint = ["/bin/base"]
cmd = ["--base"]
user = "0"
exposed_ports = ["80"]
[image.env]
A = "base"
B = "base"
[image.labels]
"org.example.base" = "yes"
`)
	write(t, dir+"/app.toml", `
include = ["base"]
version = "2.1"
[image]
entrypoint = ["/usr/sbin/app", "-v"]
user = "app:app"
workdir = "/srv//app/"
exposed_ports = ["8080/tcp", "53/udp"]
env = { B = "app", C = "${version}" }
labels = { "org.opencontainers.image.version" = "${version}" }
`)
	f, err := Load(dir+"/app.toml", testOpts)
	if err != nil {
		t.Fatal(err)
	}
	want := &Image{
		Tag: "base", Entrypoint: []string{"/usr/sbin/app", "-v"}, Cmd: []string{"--base"}, User: "app:app",
		Workdir: "/srv/app", ExposedPorts: []string{"8080/tcp", "53/udp"},
		Env:    map[string]string{"A": "base", "B": "app", "C": "2.1"},
		Labels: map[string]string{"org.example.base": "yes", "org.opencontainers.image.version": "2.1"},
	}
	if d := cmp.Diff(want, f.Image); d != "" {
		t.Errorf("image (-want +got):\n%s", d)
	}
	roundTrip(t, f)
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
