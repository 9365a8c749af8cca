package payload

// Owners maps user and group names to numeric ids inside a SOCK. rpm
// resolves a package's owner names in the target's own /etc/passwd and
// /etc/group, never the build host's. *sockfs.Accounts is the Owners
// Unpack reads when Options.Owners is nil.
type Owners interface {
	UserID(name string) (uint32, bool)
	GroupID(name string) (uint32, bool)
}

// IDTable is an Owners from fixed maps, for callers that know the ids.
type IDTable struct {
	Users  map[string]uint32
	Groups map[string]uint32
}

// UserID returns the uid of name; root is always 0, as in rpm.
func (t *IDTable) UserID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	id, ok := t.Users[name]
	return id, ok
}

// GroupID returns the gid of name; root is always 0, as in rpm.
func (t *IDTable) GroupID(name string) (uint32, bool) {
	if name == "root" {
		return 0, true
	}
	id, ok := t.Groups[name]
	return id, ok
}
