// Package rpmarch holds the one table of rpm architectures sock needs:
// an architecture's $basearch, as dnf computes it. toe uses it for
// ${basearch} in a nail, yum for $basearch in a .repo file, so that the
// two cannot disagree. It imports nothing.
package rpmarch

// baseArch is dnf's _BASEARCH_MAP (dnf/rpm/__init__.py, dnf 4), inverted,
// plus x86_64_v2..v4 (rpm 4.19's x86-64 levels, which libdnf5 also maps
// to x86_64) and pentium3/pentium4 (older yum's i386 family).
// TestBaseArchDNF compares it with the dnf installed here.
var baseArch = map[string]string{}

func init() {
	for base, arches := range map[string][]string{
		"aarch64":     {"aarch64"},
		"alpha":       {"alpha", "alphaev4", "alphaev45", "alphaev5", "alphaev56", "alphaev6", "alphaev67", "alphaev68", "alphaev7", "alphapca56"},
		"arm":         {"armv5tejl", "armv5tel", "armv5tl", "armv6l", "armv7l", "armv8l"},
		"armhfp":      {"armv6hl", "armv7hl", "armv7hnl", "armv8hl"},
		"i386":        {"i386", "athlon", "geode", "i486", "i586", "i686", "pentium3", "pentium4"},
		"ia64":        {"ia64"},
		"mips":        {"mips"},
		"mipsel":      {"mipsel"},
		"mips64":      {"mips64"},
		"mips64el":    {"mips64el"},
		"loongarch64": {"loongarch64"},
		"noarch":      {"noarch"},
		"ppc":         {"ppc"},
		"ppc64":       {"ppc64", "ppc64iseries", "ppc64p7", "ppc64pseries"},
		"ppc64le":     {"ppc64le"},
		"riscv32":     {"riscv32"},
		"riscv64":     {"riscv64"},
		"riscv128":    {"riscv128"},
		"s390":        {"s390"},
		"s390x":       {"s390x"},
		"sh3":         {"sh3"},
		"sh4":         {"sh4", "sh4a"},
		"sparc":       {"sparc", "sparc64", "sparc64v", "sparcv8", "sparcv9", "sparcv9v"},
		"x86_64":      {"x86_64", "amd64", "ia32e", "x86_64_v2", "x86_64_v3", "x86_64_v4"},
	} {
		for _, a := range arches {
			baseArch[a] = base
		}
	}
}

// BaseArch is dnf's $basearch for an architecture: i686 gives i386,
// armv7hl armhfp, armv7l arm, x86_64_v3 x86_64. An architecture dnf does
// not know is its own basearch.
func BaseArch(arch string) string {
	if b, ok := baseArch[arch]; ok {
		return b
	}
	return arch
}
