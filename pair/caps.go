package pair

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// capXattr is the extended attribute holding file capabilities.
const capXattr = "security.capability"

// capNames are libcap's names by capability number (linux/capability.h).
// internal/payload keeps the same table for the other direction.
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

// decodeCaps turns a security.capability value (revision 2 or 3) into
// text that cap_from_text, and so rpm's FILECAPS, reads back to the same
// value: capabilities with the same flags are grouped, groups ordered by
// their lowest capability ("cap_net_raw=ep", "cap_chown,cap_kill=p
// cap_net_raw=ei"). Both a root build (from the xattr) and a rootless one
// (from the manifest's text, encoded first) go through it, so that equal
// capabilities give equal text.
func decodeCaps(b []byte) (string, error) {
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
	return strings.Join(clauses, " "), nil
}
