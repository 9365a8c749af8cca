package rpmhdr

import "fmt"

// NEVRA returns name-[epoch:]version-release.arch of a main header
// exactly as rpm 4.18 prints %{NEVRA}: "0:" when the Epoch tag is present
// and 0, no epoch when the tag is absent. Messages and pins use dnf's form
// instead (yum.FormatNEVRA, which never writes epoch 0); use this one only
// where rpm's own output is meant.
func (h *Header) NEVRA() string {
	e := ""
	if v, ok := h.Uint32(TagEpoch); ok {
		e = fmt.Sprintf("%d:", v)
	}
	return fmt.Sprintf("%s-%s%s-%s.%s", h.String(TagName), e, h.String(TagVersion), h.String(TagRelease), h.String(TagArch))
}
