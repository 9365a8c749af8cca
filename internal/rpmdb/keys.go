package rpmdb

import (
	"encoding/binary"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// index is one of rpm's secondary index tables (lib/rpmdb.c dbiTags), in
// the order rpm creates them.
type index struct {
	Table string
	Tag   rpmhdr.Tag
	Text  bool // key column is TEXT (string tags) rather than BLOB
	Array bool // tag returns an array: rpm also indexes the hnum column
}

var indexes = []index{
	{"Name", rpmhdr.TagName, true, false},
	{"Basenames", rpmhdr.TagBaseNames, true, true},
	{"Group", rpmhdr.TagGroup, true, false},
	{"Requirename", rpmhdr.TagRequireName, true, true},
	{"Providename", rpmhdr.TagProvideName, true, true},
	{"Conflictname", rpmhdr.TagConflictName, true, true},
	{"Obsoletename", rpmhdr.TagObsoleteName, true, true},
	{"Triggername", rpmhdr.TagTriggerName, true, true},
	{"Dirnames", rpmhdr.TagDirNames, true, true},
	{"Installtid", rpmhdr.TagInstallTID, false, false},
	{"Sigmd5", rpmhdr.TagSigMD5, false, false},
	{"Sha1header", rpmhdr.TagSHA1Header, true, false},
	{"Filetriggername", rpmhdr.TagFileTriggerName, true, true},
	{"Transfiletriggername", rpmhdr.TagTransFileTrig, true, true},
	{"Recommendname", rpmhdr.TagRecommendName, true, true},
	{"Suggestname", rpmhdr.TagSuggestName, true, true},
	{"Supplementname", rpmhdr.TagSupplementName, true, true},
	{"Enhancename", rpmhdr.TagEnhanceName, true, true},
}

// Key is one row of a secondary index: the key of a tag's idx-th value.
// Text keys are bound as TEXT, others as BLOB; rpm's lookups miss a key
// bound with the other type.
type Key struct {
	Table string
	Key   []byte
	Text  bool
	Idx   uint32
}

// Which requirements rpm indexes depends on these rpmsense flags.
const (
	installOnly = rpmhdr.SenseScriptPre | rpmhdr.SenseScriptPost | rpmhdr.SenseRPMLib | rpmhdr.SenseKeyring | rpmhdr.SensePretrans | rpmhdr.SensePosttrans
	eraseOnly   = rpmhdr.SenseScriptPreUn | rpmhdr.SenseScriptPostUn
)

// transient reports rpm's isTransientReq: a requirement needed only while
// installing (rpmlib(), %pre, %post, %pretrans, %posttrans) and not while
// erasing is left out of the Requirename index.
func transient(flags uint32) bool {
	return flags&installOnly != 0 && flags&eraseOnly == 0 && flags&rpmhdr.SenseMeta == 0
}

// IndexKeys returns every secondary index row rpm writes for an installed
// header, following lib/rpmdb.c's tag2index: requirements needed only at
// install time are skipped, trigger names deduplicated, file trigger rows
// carry the trigger index, a rich dependency is indexed whole and by each
// component, a header without a Group is indexed as "Unknown", and
// integer keys (Installtid) are in the target's byte order.
func IndexKeys(h *rpmhdr.Header, order binary.ByteOrder) []Key {
	var out []Key
	for _, ix := range indexes {
		out = append(out, indexKeys(h, ix, order)...)
	}
	return out
}

func indexKeys(h *rpmhdr.Header, ix index, order binary.ByteOrder) []Key {
	e, ok := h.Lookup(ix.Tag)
	if !ok || e.Count == 0 {
		if ix.Tag == rpmhdr.TagGroup {
			return []Key{{Table: ix.Table, Key: []byte("Unknown"), Text: true}}
		}
		return nil
	}
	var keys [][]byte
	switch e.Type {
	case rpmhdr.TypeString, rpmhdr.TypeStringArray, rpmhdr.TypeI18NString:
		for _, s := range h.Strings(ix.Tag) {
			keys = append(keys, []byte(s))
		}
	case rpmhdr.TypeBin:
		keys = [][]byte{h.Data(ix.Tag)}
	case rpmhdr.TypeInt32:
		for _, v := range h.Uint32s(ix.Tag) {
			b := make([]byte, 4)
			order.PutUint32(b, v)
			keys = append(keys, b)
		}
	case rpmhdr.TypeInt16:
		for _, v := range h.Uint32s(ix.Tag) {
			b := make([]byte, 2)
			order.PutUint16(b, uint16(v))
			keys = append(keys, b)
		}
	case rpmhdr.TypeChar, rpmhdr.TypeInt8:
		for _, v := range h.Uint32s(ix.Tag) {
			keys = append(keys, []byte{byte(v)})
		}
	case rpmhdr.TypeInt64:
		for _, v := range h.Uint64s(ix.Tag) {
			b := make([]byte, 8)
			order.PutUint64(b, v)
			keys = append(keys, b)
		}
	default:
		return nil
	}

	var flags, trig []uint32
	switch ix.Tag {
	case rpmhdr.TagRequireName:
		flags = h.Uint32s(rpmhdr.TagRequireFlags)
	case rpmhdr.TagFileTriggerName:
		trig = h.Uint32s(rpmhdr.TagFileTriggerIdx)
	case rpmhdr.TagTransFileTrig:
		trig = h.Uint32s(rpmhdr.TagTransFileTrigIx)
	}
	var out []Key
	for i, k := range keys {
		idx := uint32(i)
		if trig != nil {
			if i >= len(trig) {
				break // rpm would read past the index array; stop instead
			}
			idx = trig[i]
		}
		if ix.Tag == rpmhdr.TagRequireName && i < len(flags) && transient(flags[i]) {
			continue
		}
		if ix.Tag == rpmhdr.TagTriggerName && dupBefore(keys, i) {
			continue
		}
		out = append(out, Key{Table: ix.Table, Key: k, Text: ix.Text, Idx: idx})
		if len(k) > 0 && k[0] == '(' && e.Type == rpmhdr.TypeStringArray && richIndexed(ix.Tag) {
			for _, n := range richNames(string(k)) {
				out = append(out, Key{Table: ix.Table, Key: []byte(n), Text: ix.Text, Idx: idx})
			}
		}
	}
	return out
}

func dupBefore(keys [][]byte, i int) bool {
	for j := 0; j < i; j++ {
		if string(keys[j]) == string(keys[i]) {
			return true
		}
	}
	return false
}

// richIndexed lists the dependency tags whose rich entries rpm also
// indexes by component; Provides and Obsoletes cannot be rich.
func richIndexed(t rpmhdr.Tag) bool {
	switch t {
	case rpmhdr.TagRequireName, rpmhdr.TagConflictName, rpmhdr.TagSuggestName,
		rpmhdr.TagSupplementName, rpmhdr.TagRecommendName, rpmhdr.TagEnhanceName:
		return true
	}
	return false
}
