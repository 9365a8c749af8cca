package yum

import (
	"path"
	"strings"

	"github.com/sock-project/sock/internal/rpmhdr"
)

// FromHeader describes a package from its own header, for an rpm given
// by URL or local path rather than by repository metadata: the same
// fields primary.xml would give, and every file. repo, location and
// baseURL are set as for repository packages; size is the file's size.
func FromHeader(p *rpmhdr.Package, repo, location, baseURL string, size int64) *Package {
	h := p.Header
	pkg := &Package{
		Name:        h.String(rpmhdr.TagName),
		Version:     h.String(rpmhdr.TagVersion),
		Release:     h.String(rpmhdr.TagRelease),
		Arch:        h.String(rpmhdr.TagArch),
		Repo:        repo,
		Location:    location,
		BaseURL:     baseURL,
		Size:        size,
		Summary:     h.String(rpmhdr.TagSummary),
		SourceRPM:   h.String(rpmhdr.TagSourceRPM),
		HeaderStart: p.HeaderStart,
		HeaderEnd:   p.HeaderEnd,
	}
	if e, ok := h.Uint32(rpmhdr.TagEpoch); ok {
		pkg.Epoch = e
	}
	if v, ok := h.Uint32(rpmhdr.TagBuildTime); ok {
		pkg.BuildTime = int64(v)
	}
	if s := h.Uint64s(rpmhdr.TagLongSize); len(s) > 0 {
		pkg.InstalledSize = int64(s[0])
	} else if v, ok := h.Uint32(rpmhdr.TagSize); ok {
		pkg.InstalledSize = int64(v)
	}
	pkg.SetDepLists([8][]Dep{
		headerDeps(h, rpmhdr.TagProvideName, rpmhdr.TagProvideFlags, rpmhdr.TagProvideVersion),
		headerDeps(h, rpmhdr.TagRequireName, rpmhdr.TagRequireFlags, rpmhdr.TagRequireVersion),
		headerDeps(h, rpmhdr.TagConflictName, rpmhdr.TagConflictFlags, rpmhdr.TagConflictVer),
		headerDeps(h, rpmhdr.TagObsoleteName, rpmhdr.TagObsoleteFlags, rpmhdr.TagObsoleteVer),
		headerDeps(h, rpmhdr.TagRecommendName, rpmhdr.TagRecommendFlags, rpmhdr.TagRecommendVer),
		headerDeps(h, rpmhdr.TagSuggestName, rpmhdr.TagSuggestFlags, rpmhdr.TagSuggestVer),
		headerDeps(h, rpmhdr.TagSupplementName, rpmhdr.TagSupplementFlag, rpmhdr.TagSupplementVer),
		headerDeps(h, rpmhdr.TagEnhanceName, rpmhdr.TagEnhanceFlags, rpmhdr.TagEnhanceVer),
	})
	pkg.Files = HeaderFiles(h)
	return pkg
}

// HeaderFiles returns a header's file paths (DIRNAMES[DIRINDEXES] +
// BASENAMES), in header order.
func HeaderFiles(h *rpmhdr.Header) []string {
	base := h.Strings(rpmhdr.TagBaseNames)
	dirs := h.Strings(rpmhdr.TagDirNames)
	idx := h.Uint32s(rpmhdr.TagDirIndexes)
	if len(idx) != len(base) {
		return nil
	}
	files := make([]string, 0, len(base))
	for i, b := range base {
		if int(idx[i]) >= len(dirs) {
			return nil
		}
		files = append(files, path.Join(dirs[idx[i]], b))
	}
	return files
}

// headerDeps reads one dependency set. rpmlib() requirements are left out,
// as createrepo_c leaves them out of primary.xml: they are promises about
// rpm itself, not packages.
func headerDeps(h *rpmhdr.Header, nameTag, flagsTag, verTag rpmhdr.Tag) []Dep {
	names := h.Strings(nameTag)
	flags := h.Uint32s(flagsTag)
	vers := h.Strings(verTag)
	var deps []Dep
	for i, n := range names {
		var f uint32
		if i < len(flags) {
			f = flags[i]
		}
		if f&rpmhdr.SenseRPMLib != 0 || strings.HasPrefix(n, "rpmlib(") {
			continue
		}
		d := Dep{Name: n, Pre: f&(rpmhdr.SensePrereq|rpmhdr.SenseScriptPre|rpmhdr.SenseScriptPost) != 0}
		if i < len(vers) && vers[i] != "" {
			switch f & (rpmhdr.SenseLess | rpmhdr.SenseGreater | rpmhdr.SenseEqual) {
			case rpmhdr.SenseLess:
				d.Flags = DepLT
			case rpmhdr.SenseGreater:
				d.Flags = DepGT
			case rpmhdr.SenseEqual:
				d.Flags = DepEQ
			case rpmhdr.SenseLess | rpmhdr.SenseEqual:
				d.Flags = DepLE
			case rpmhdr.SenseGreater | rpmhdr.SenseEqual:
				d.Flags = DepGE
			}
			if d.Flags != DepAny {
				d.EVR = PackEVR(splitEVR(vers[i]))
			}
		}
		deps = append(deps, d)
	}
	return deps
}

// splitEVR splits "[epoch:]version[-release]" as rpm writes dependency
// versions.
func splitEVR(s string) (e, v, r string) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		e, s = s[:i], s[i+1:]
	}
	v = s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		v, r = s[:i], s[i+1:]
	}
	if e == "" && v != "" {
		e = "0"
	}
	return e, v, r
}
