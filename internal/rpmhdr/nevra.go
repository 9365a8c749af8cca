package rpmhdr

import "fmt"

// NEVRA returns name-[epoch:]version-release.arch of a main header, the
// way rpm -q prints %{NEVRA}.
func (h *Header) NEVRA() string {
	e := ""
	if v, ok := h.Uint32(TagEpoch); ok {
		e = fmt.Sprintf("%d:", v)
	}
	return fmt.Sprintf("%s-%s%s-%s.%s", h.String(TagName), e, h.String(TagVersion), h.String(TagRelease), h.String(TagArch))
}
