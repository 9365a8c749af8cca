package payload

import (
	"encoding/binary"
	"fmt"
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
// and rpm write: VFS_CAP_REVISION_2, 20 bytes. An empty text gives nil.
func EncodeCaps(text string) ([]byte, error) {
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
	if perm|inh|eff == 0 {
		return nil, nil
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
