package rpmdb

import (
	"encoding/binary"
	"testing"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// FuzzIndexKeys feeds rpmdb blobs through rpmhdr.Parse and the index key
// extraction: nothing may panic, whatever a database holds.
func FuzzIndexKeys(f *testing.F) {
	// Seeds: a blob of our own with every install-time tag, and a rich
	// dependency of every operator.
	for _, p := range testPackages(f, 1) {
		if b, err := Blob(p, InstallInfo{Time: 1, Color: 3}); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("(a if (b else c) unless"))
	f.Add([]byte("((a >= 1 with b) or (c if d else e) or (f unless g) or (h without i))"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		h, err := rpmhdr.Parse(blob)
		if err == nil {
			for _, k := range IndexKeys(h, binary.LittleEndian) {
				if k.Table == "" {
					t.Fatalf("key without a table: %+v", k)
				}
			}
		}
		richNames(string(blob))
	})
}
