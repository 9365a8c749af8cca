package rpmsig

import "fmt"

// where names a package in messages: its NEVRA and its file, or the file
// alone when the header could not be read.
func where(pkg, file string) string {
	switch {
	case pkg == "":
		return file
	case file == "":
		return pkg
	}
	return pkg + " (" + file + ")"
}

// keyID formats a key ID the way rpm prints it: the low 32 bits in hex.
func keyID(id uint64) string { return fmt.Sprintf("%08x", uint32(id)) }

// UnsignedError is a package that carries no OpenPGP signature while one
// is required.
type UnsignedError struct {
	Package string // NEVRA
	File    string
}

func (e *UnsignedError) Error() string {
	return where(e.Package, e.File) + ": package is not signed"
}

// UnknownKeyError is a package signed with a key that is not among the
// trusted keys (rpm's NOKEY).
type UnknownKeyError struct {
	Package string // NEVRA
	File    string
	// KeyID is the signature's issuer key ID (0 if it names only a
	// fingerprint shorter than a v4 one).
	KeyID uint64
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("%s: signed with key ID %s, which is not among the gpgkey keys", where(e.Package, e.File), keyID(e.KeyID))
}

// BadSignatureError is a signature that does not verify: unreadable, of
// an unsupported kind, or not matching the signed bytes.
type BadSignatureError struct {
	Package string // NEVRA
	File    string
	// What is the signature in rpm -K's words, lowercased:
	// "header V4 RSA/SHA512 signature", "V4 EdDSA/SHA256 signature"
	// (header+payload), or "signature" when it could not be parsed.
	What string
	// KeyID is the issuer key ID, 0 when unknown.
	KeyID uint64
	Err   error
}

func (e *BadSignatureError) Error() string {
	w := where(e.Package, e.File)
	if e.KeyID == 0 {
		return fmt.Sprintf("%s: bad %s: %v", w, e.What, e.Err)
	}
	return fmt.Sprintf("%s: bad %s, key ID %s: %v", w, e.What, keyID(e.KeyID), e.Err)
}

func (e *BadSignatureError) Unwrap() error { return e.Err }

// DigestError is a digest that does not match the package's bytes, or a
// payload that no digest covers.
type DigestError struct {
	Package string // NEVRA
	File    string
	// What is the digest in rpm -K's words, lowercased: "header SHA256
	// digest", "header SHA1 digest", "payload SHA256 digest", "MD5 digest".
	What string
	// Want is the digest the package records and Got the one computed, in
	// hex; both are empty when the package records none.
	Want, Got string
}

func (e *DigestError) Error() string {
	w := where(e.Package, e.File)
	if e.Want == "" {
		return fmt.Sprintf("%s: no %s: the payload is covered by no digest or signature", w, e.What)
	}
	return fmt.Sprintf("%s: %s mismatch: package records %s, content has %s", w, e.What, e.Want, e.Got)
}

// UntrustedKeyError is a signature by a key that was expired when the
// signature was made, or that is revoked, or whose primary key is (rpm's
// NOTTRUSTED).
type UntrustedKeyError struct {
	Package string // NEVRA
	File    string
	// KeyID is the signing key's (or subkey's) key ID; Owner the primary
	// user ID of its certificate.
	KeyID uint64
	Owner string
	// Why says what is wrong with the key: "expired on 2024-01-02
	// 03:04:05 UTC, before the signature was made", "is revoked (key
	// compromised: lost)".
	Why string
}

func (e *UntrustedKeyError) Error() string {
	return fmt.Sprintf("%s: not trusted: key ID %s of %s %s", where(e.Package, e.File), keyID(e.KeyID), e.Owner, e.Why)
}
