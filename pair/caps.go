package pair

// capXattr is the extended attribute holding file capabilities; the
// conversions to and from rpm's text form are payload.EncodeCaps and
// payload.DecodeCaps.
const capXattr = "security.capability"
