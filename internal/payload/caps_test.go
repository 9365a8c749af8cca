package payload

import (
	"bytes"
	"testing"
)

// DecodeCaps is EncodeCaps's inverse, in canonical text.
func TestDecodeCaps(t *testing.T) {
	for _, tc := range []struct{ text, canonical string }{
		{"cap_net_raw=ep", "cap_net_raw=ep"},
		// One effective bit covers every capability in the xattr.
		{"cap_chown,cap_kill=p cap_net_raw=eip", "cap_chown,cap_kill=ep cap_net_raw=eip"},
		{"cap_sys_admin=i", "cap_sys_admin=i"},
		{"cap_kill+p cap_chown+p", "cap_chown,cap_kill=p"},
		{"=", "="},
	} {
		t.Run(tc.text, func(t *testing.T) {
			b, err := EncodeCaps(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeCaps(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.canonical {
				t.Errorf("DecodeCaps(EncodeCaps(%q)) = %q, want %q", tc.text, got, tc.canonical)
			}
			again, _ := EncodeCaps(got)
			if !bytes.Equal(b, again) {
				t.Errorf("%q -> %q does not encode back to the same value", tc.text, got)
			}
		})
	}
	if _, err := DecodeCaps([]byte{1, 2}); err == nil || err.Error() != "capabilities: 2 bytes, want at least 20" {
		t.Errorf("short value: %v", err)
	}
}
