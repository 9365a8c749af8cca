// Package rpmsig checks the OpenPGP signatures and the digests of RPM
// package files, the way rpm 4.18's `rpm -K` and dnf's gpgcheck do, without
// rpm or gpg on the host.
//
// It owns the signature checks: the header-only signature (RSAHEADER or
// DSAHEADER in the signature header, over the main header with its magic),
// the legacy header+payload signature (PGP or GPG) when present, the header
// digests (SHA256HEADER, SHA1HEADER), the payload digest of the main header
// (PAYLOADDIGEST, over the compressed payload) and the legacy MD5. A valid
// header signature alone does not cover the payload; the payload digest,
// which sits inside the signed header, does, so both are always checked.
//
// Signature packets of version 4 and later are parsed and verified by
// ProtonMail/go-crypto; version 3 packets (RFC 4880 §5.2.2), which every
// EL3-EL7 package carries and go-crypto refuses, are parsed here
// (ParseSignatureV3) and verified with the standard library's RSA
// (PKCS#1 v1.5) and DSA, after the 16-bit digest prefix check rpm makes.
//
// It leaves to others where the keys come from (yum's Downloader.LoadKeys
// fetches a repository's gpgkey URLs), when to check (sew, with gpgcheck
// on) and reading headers (internal/rpmhdr).
//
// A key that was expired when it made the signature, or that is revoked
// (a compromise at any time, a retirement before the signature), is not
// trusted, as with rpm 4.19 and later (rpm-sequoia); Debian 12's rpm
// 4.18 checks neither.
//
// Start with Verify; failures are *UnsignedError, *UnknownKeyError,
// *UntrustedKeyError, *BadSignatureError and *DigestError, each naming
// the package and file.
// CheckDigests is the gpgcheck-off variant.
package rpmsig
