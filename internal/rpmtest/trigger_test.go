package rpmtest

import (
	"strings"
	"testing"
)

func TestSpecTriggers(t *testing.T) {
	tests := []struct {
		name string
		trig Trigger
		want string
	}{
		{"package", Trigger{Kind: "triggerin", On: "tgt >= 1.0, other", Body: "echo in"}, "\n%triggerin -- tgt >= 1.0, other\necho in\n"},
		{"prein", Trigger{Kind: "triggerprein", On: "tgt", Body: "true"}, "\n%triggerprein -- tgt\ntrue\n"},
		{"file", Trigger{Kind: "filetriggerin", On: "/usr/lib /lib", Priority: 100, Body: "cat"}, "\n%filetriggerin -P 100 -- /usr/lib /lib\ncat\n"},
		{"lua", Trigger{Kind: "transfiletriggerin", On: "/usr/share", Prog: "<lua>", Priority: 5, Body: "print(1)"}, "\n%transfiletriggerin -p <lua> -P 5 -- /usr/share\nprint(1)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec(Pkg{Name: "a", Triggers: []Trigger{tt.trig}})
			if !strings.HasSuffix(spec, tt.want) {
				t.Errorf("spec does not end with %q:\n%s", tt.want, spec)
			}
		})
	}
}

func TestNfpmRefusesTriggers(t *testing.T) {
	_, err := Nfpm(t.TempDir(), Pkg{Name: "a", Triggers: []Trigger{{Kind: "triggerin", On: "b"}}})
	want := "rpmtest: nfpm cannot write Supplements, Enhances, Requires(pre) or triggers (a)"
	if err == nil || err.Error() != want {
		t.Errorf("Nfpm: got %v, want %q", err, want)
	}
}
