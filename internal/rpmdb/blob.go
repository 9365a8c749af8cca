package rpmdb

import (
	"fmt"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// FileState is rpm's per-file install state (RPMTAG_FILESTATES).
type FileState byte

// The file states rpm records (rpmfiles.h rpmfileState_e).
const (
	FileNormal       FileState = 0
	FileReplaced     FileState = 1
	FileNotInstalled FileState = 2 // e.g. a %doc file skipped by --excludedocs, a language not installed
	FileNetShared    FileState = 3
	FileWrongColor   FileState = 4
)

// InstallInfo is what rpm records about an install beyond the package's
// own headers.
type InstallInfo struct {
	// Time is INSTALLTIME in Unix seconds; TID is INSTALLTID, the
	// transaction's id (rpm uses the transaction's start time, shared by
	// every package of one transaction). A TID of 0 means Time. Pass
	// SOURCE_DATE_EPOCH for reproducible databases.
	Time uint32
	TID  uint32
	// Color is INSTALLCOLOR, rpm's %_transaction_color for the target
	// architecture: see TransactionColor.
	Color uint32
	// FileStates has one state per file of the header, in header order.
	// Nil means every file FileNormal, which is what rpm records for
	// installed files and for %ghost files alike.
	FileStates []FileState
}

// TransactionColor returns rpm's %_transaction_color for a target
// architecture: 3 on 64-bit multilib architectures, 2 on ia64, else 0.
func TransactionColor(arch string) uint32 {
	switch arch {
	case "x86_64", "amd64", "ia32e", "aarch64", "ppc64", "ppc64le", "ppc64p7",
		"s390x", "sparc64", "sparc64v", "riscv64", "loongarch64",
		"mips64", "mips64el", "mips64r6", "mips64r6el":
		return 3
	case "ia64":
		return 2
	}
	return 0
}

// legacySig maps the signature header tags rpm renames when it merges
// them into the main header (lib/package.c headerMergeLegacySigs).
var legacySig = map[rpmhdr.Tag]rpmhdr.Tag{
	rpmhdr.SigTagSize:        rpmhdr.TagSigSize,
	rpmhdr.SigTagPGP:         rpmhdr.TagSigPGP,
	rpmhdr.SigTagMD5:         rpmhdr.TagSigMD5,
	rpmhdr.SigTagGPG:         rpmhdr.TagSigGPG,
	rpmhdr.SigTagPGP5:        rpmhdr.TagSigPGP5,
	rpmhdr.SigTagPayloadSize: rpmhdr.TagArchiveSize,
	rpmhdr.SigTagFileSigs:    rpmhdr.TagFileSignatures,
	rpmhdr.SigTagFileSigLen:  rpmhdr.TagFileSigLength,
}

// knownSig are the tags of the signature range (256..999) that rpm 4.18
// knows (its tag table, rpmtag.h): headerMergeLegacySigs copies those
// and drops the others, such as rpm 6's OPENPGP (278).
var knownSig = map[rpmhdr.Tag]bool{
	rpmhdr.TagSigSize: true, rpmhdr.TagSigPGP: true, rpmhdr.TagSigMD5: true,
	rpmhdr.TagSigGPG: true, rpmhdr.TagSigPGP5: true,
	266:                 true, // PUBKEYS
	rpmhdr.TagDSAHeader: true, rpmhdr.TagRSAHeader: true, rpmhdr.TagSHA1Header: true,
	rpmhdr.TagLongSigSize: true, rpmhdr.TagLongArchive: true, rpmhdr.TagSHA256Header: true,
	276: true, 277: true, // VERITYSIGNATURES, VERITYSIGNATUREALGO
}

// sigEntries returns the signature header's tags as rpm merges them into
// an installed header: renamed legacy tags, other tags in 256..999 that
// rpm knows as they are; integers only when single, strings and binaries
// under 16384 items, I18N strings and NULLs never; tags the header has
// are kept.
func sigEntries(sig, h *rpmhdr.Header) []rpmhdr.NewEntry {
	var out []rpmhdr.NewEntry
	for _, e := range sig.Entries() {
		tag, ok := legacySig[e.Tag]
		if !ok {
			if !knownSig[e.Tag] {
				continue
			}
			tag = e.Tag
		}
		if h.Has(tag) {
			continue
		}
		switch e.Type {
		case rpmhdr.TypeNull, rpmhdr.TypeI18NString:
			continue
		case rpmhdr.TypeChar, rpmhdr.TypeInt8, rpmhdr.TypeInt16, rpmhdr.TypeInt32, rpmhdr.TypeInt64:
			if e.Count != 1 {
				continue
			}
		case rpmhdr.TypeString, rpmhdr.TypeStringArray, rpmhdr.TypeBin:
			if e.Count >= 16*1024 {
				continue
			}
		}
		ne, _ := sig.Copy(e.Tag)
		ne.Tag = tag
		out = append(out, ne)
	}
	return out
}

// Blob returns the Packages blob rpm stores for pkg installed with inst:
// the main header verbatim with the signature tags and the install-time
// tags appended after its immutable region.
func Blob(pkg *rpmhdr.Package, inst InstallInfo) ([]byte, error) {
	h := pkg.Header
	add := sigEntries(pkg.Signature, h)
	// rpm's applyRetrofits: a binary package always has SOURCERPM.
	if !h.Has(rpmhdr.TagSourceRPM) && !h.Has(rpmhdr.TagSourcePackage) {
		add = append(add, rpmhdr.StringEntry(rpmhdr.TagSourceRPM, "(none)"))
	}
	n := len(h.Strings(rpmhdr.TagBaseNames))
	if old := h.Strings(rpmhdr.TagOldFileNames); n == 0 && len(old) > 0 {
		// An rpm 3 header: rpm's compressFilelist adds the compressed
		// list outside the immutable region (which keeps OLDFILENAMES),
		// so that -ql, -qf and -V read it.
		base, dirs, idx := rpmhdr.CompressFilelist(old)
		add = append(add,
			rpmhdr.Int32Entry(rpmhdr.TagDirIndexes, idx...),
			rpmhdr.StringArrayEntry(rpmhdr.TagBaseNames, base...),
			rpmhdr.StringArrayEntry(rpmhdr.TagDirNames, dirs...))
		n = len(old)
	}
	if n > 0 {
		states := make([]byte, n)
		if inst.FileStates != nil {
			if len(inst.FileStates) != n {
				return nil, fmt.Errorf("rpmdb blob for %s: %d file states for %d files", h.NEVRA(), len(inst.FileStates), n)
			}
			for i, s := range inst.FileStates {
				states[i] = byte(s)
			}
		}
		add = append(add, rpmhdr.NewEntry{Tag: rpmhdr.TagFileStates, Type: rpmhdr.TypeChar, Count: uint32(n), Data: states})
	}
	tid := inst.TID
	if tid == 0 {
		tid = inst.Time
	}
	add = append(add,
		rpmhdr.Int32Entry(rpmhdr.TagInstallTime, inst.Time),
		rpmhdr.Int32Entry(rpmhdr.TagInstallColor, inst.Color),
		rpmhdr.Int32Entry(rpmhdr.TagInstallTID, tid),
	)
	b, err := h.Export(add)
	if err != nil {
		return nil, fmt.Errorf("rpmdb blob for %s: %w", h.NEVRA(), err)
	}
	return b, nil
}
