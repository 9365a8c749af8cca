package payload

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// capNames are the capability names libcap's cap_to_text writes, by number
// (linux/capability.h).
var capNames = []string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner",
	"cap_fsetid", "cap_kill", "cap_setgid", "cap_setuid", "cap_setpcap",
	"cap_linux_immutable", "cap_net_bind_service", "cap_net_broadcast",
	"cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace",
	"cap_sys_pacct", "cap_sys_admin", "cap_sys_boot", "cap_sys_nice",
	"cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod",
	"cap_lease", "cap_audit_write", "cap_audit_control", "cap_setfcap",
	"cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf",
	"cap_checkpoint_restore",
}

// capXattr is the extended attribute holding file capabilities.
const capXattr = "security.capability"

// EncodeCaps turns FILECAPS text ("cap_net_raw=ep", "cap_a,cap_b+ep
// cap_c=i", "=ep" for all) into the security.capability value the kernel
// and rpm write: VFS_CAP_REVISION_2, 20 bytes. An empty text (no
// FILECAPS) gives nil; "=" is the empty capability set, which rpm writes
// as a value with no bits set (cap_set_fd of cap_from_text("=")), and
// `rpm -V` checks for.
func EncodeCaps(text string) ([]byte, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	var perm, inh, eff uint64
	all := uint64(1)<<len(capNames) - 1
	for _, clause := range strings.Fields(text) {
		// A clause is a capability list followed by one or more
		// operator-flags pairs: "cap_a,cap_b=ep-i".
		i := strings.IndexAny(clause, "=+-")
		if i < 0 {
			return nil, fmt.Errorf("capabilities %q: clause %q has no operator", text, clause)
		}
		var set uint64
		if list := clause[:i]; list == "" || list == "all" {
			set = all
		} else {
			for _, name := range strings.Split(list, ",") {
				n, err := capNumber(name)
				if err != nil {
					return nil, fmt.Errorf("capabilities %q: %w", text, err)
				}
				set |= 1 << n
			}
		}
		for rest := clause[i:]; rest != ""; {
			op := rest[0]
			j := strings.IndexAny(rest[1:], "=+-")
			flags := rest[1:]
			if j >= 0 {
				flags, rest = rest[1:1+j], rest[1+j:]
			} else {
				rest = ""
			}
			if op == '=' {
				perm, inh, eff = perm&^set, inh&^set, eff&^set
			}
			for _, f := range flags {
				var p *uint64
				switch f {
				case 'p':
					p = &perm
				case 'i':
					p = &inh
				case 'e':
					p = &eff
				default:
					return nil, fmt.Errorf("capabilities %q: unknown flag %q", text, f)
				}
				if op == '-' {
					*p &^= set
				} else {
					*p |= set
				}
			}
		}
	}
	// The file format keeps one effective bit: raise it when any effective
	// capability is asked for, as libcap's cap_set_file does.
	magic := uint32(0x02000000)
	if eff != 0 {
		magic |= 1
	}
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b[0:], magic)
	binary.LittleEndian.PutUint32(b[4:], uint32(perm))
	binary.LittleEndian.PutUint32(b[8:], uint32(inh))
	binary.LittleEndian.PutUint32(b[12:], uint32(perm>>32))
	binary.LittleEndian.PutUint32(b[16:], uint32(inh>>32))
	return b, nil
}

func capNumber(name string) (int, error) {
	name = strings.ToLower(name)
	for i, n := range capNames {
		if n == name {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 && n < 64 {
		return n, nil
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

// DecodeCaps turns a security.capability value (revision 2 or 3) into
// text that cap_from_text, and so rpm's FILECAPS, reads back to the same
// value: capabilities with the same flags are grouped, groups ordered by
// their lowest capability ("cap_net_raw=ep", "cap_chown,cap_kill=p
// cap_net_raw=ei"). It is EncodeCaps's inverse up to that canonical form:
// pair passes both a root build's xattr and a rootless build's manifest
// text (encoded first) through it, so that equal capabilities give equal
// text.
func DecodeCaps(b []byte) (string, error) {
	if len(b) < 20 {
		return "", fmt.Errorf("capabilities: %d bytes, want at least 20", len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	if rev := magic &^ 1; rev != 0x02000000 && rev != 0x03000000 {
		return "", fmt.Errorf("capabilities: unknown revision %#x", magic)
	}
	perm := uint64(binary.LittleEndian.Uint32(b[4:])) | uint64(binary.LittleEndian.Uint32(b[12:]))<<32
	inh := uint64(binary.LittleEndian.Uint32(b[8:])) | uint64(binary.LittleEndian.Uint32(b[16:]))<<32
	eff := magic&1 != 0
	groups := map[string][]int{}
	for i := 0; i < 64; i++ {
		var flags string
		if eff && (perm|inh)&(1<<i) != 0 {
			flags += "e"
		}
		if inh&(1<<i) != 0 {
			flags += "i"
		}
		if perm&(1<<i) != 0 {
			flags += "p"
		}
		if flags != "" {
			groups[flags] = append(groups[flags], i)
		}
	}
	var clauses []string
	order := make([]string, 0, len(groups))
	for f := range groups {
		order = append(order, f)
	}
	sort.Slice(order, func(i, j int) bool { return groups[order[i]][0] < groups[order[j]][0] })
	for _, f := range order {
		var names []string
		for _, c := range groups[f] {
			if c < len(capNames) {
				names = append(names, capNames[c])
			} else {
				names = append(names, strconv.Itoa(c))
			}
		}
		clauses = append(clauses, strings.Join(names, ",")+"="+f)
	}
	if len(clauses) == 0 {
		return "=", nil // the empty set, as cap_to_text writes it
	}
	return strings.Join(clauses, " "), nil
}
