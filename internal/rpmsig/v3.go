package rpmsig

import (
	"bytes"
	"crypto"
	"crypto/dsa" //nolint:staticcheck // V3 DSA signatures of EL3-EL5 packages need it
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// SignatureV3 is a version 3 OpenPGP signature packet (RFC 4880 §5.2.2),
// which rpm 4.18 still verifies and every EL3-EL7 package carries, and
// which ProtonMail/go-crypto refuses to parse.
type SignatureV3 struct {
	SigType    packet.SignatureType
	Created    time.Time
	KeyID      uint64
	PubKeyAlgo packet.PublicKeyAlgorithm
	Hash       crypto.Hash
	// Left16 is the first two bytes of the signed digest.
	Left16 [2]byte
	// MPIs is the signature's integers: one for RSA, r and s for DSA.
	MPIs []*big.Int

	// suffix is what the hash covers after the data: the signature type
	// and the creation time (the five "hashed" bytes).
	suffix [5]byte
}

// v3hashes are the OpenPGP hash algorithm IDs a V3 signature may name.
var v3hashes = map[byte]crypto.Hash{
	1:  crypto.MD5,
	2:  crypto.SHA1,
	8:  crypto.SHA256,
	9:  crypto.SHA384,
	10: crypto.SHA512,
	11: crypto.SHA224,
}

// packetBody returns the body of the single OpenPGP packet in b, which
// must be a signature packet (tag 2) in the old or the new format, with
// nothing after it.
func packetBody(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return nil, errors.New("not an OpenPGP packet")
	}
	var tag byte
	var n, hl int
	if b[0]&0x40 == 0 { // old format: tag in bits 5-2, length type in 1-0
		tag = (b[0] >> 2) & 0x0f
		switch b[0] & 3 {
		case 0:
			n, hl = int(b[1]), 2
		case 1:
			if len(b) < 3 {
				return nil, errors.New("truncated packet header")
			}
			n, hl = int(binary.BigEndian.Uint16(b[1:])), 3
		case 2:
			if len(b) < 5 {
				return nil, errors.New("truncated packet header")
			}
			n, hl = int(binary.BigEndian.Uint32(b[1:])), 5
		default:
			n, hl = len(b)-1, 1 // indeterminate length: to the end
		}
	} else { // new format
		tag = b[0] & 0x3f
		switch c := int(b[1]); {
		case c < 192:
			n, hl = c, 2
		case c < 224:
			if len(b) < 3 {
				return nil, errors.New("truncated packet header")
			}
			n, hl = (c-192)<<8+int(b[2])+192, 3
		case c == 255:
			if len(b) < 6 {
				return nil, errors.New("truncated packet header")
			}
			n, hl = int(binary.BigEndian.Uint32(b[2:])), 6
		default:
			return nil, errors.New("partial body lengths in a signature packet")
		}
	}
	if tag != 2 {
		return nil, fmt.Errorf("packet tag %d, want a signature (2)", tag)
	}
	if n < 0 || hl+n > len(b) {
		return nil, fmt.Errorf("packet of %d bytes overruns its %d-byte tag", n, len(b)-hl)
	}
	if extra := len(b) - hl - n; extra > 0 {
		return nil, fmt.Errorf("%d bytes after the packet", extra)
	}
	return b[hl:], nil
}

// isV3 reports whether b holds a version 3 signature packet.
func isV3(b []byte) bool {
	body, err := packetBody(b)
	return err == nil && len(body) > 0 && (body[0] == 3 || body[0] == 2)
}

// ParseSignatureV3 reads the version 3 signature packet that an RPM
// signature tag holds (rpm also takes version 2, the same layout). It
// refuses trailing bytes and signatures that are not over binary data.
func ParseSignatureV3(b []byte) (*SignatureV3, error) {
	body, err := packetBody(b)
	if err != nil {
		return nil, fmt.Errorf("parse signature packet: %w", err)
	}
	// version(1) hashed-length(1)=5 type(1) time(4) keyid(8) pubalgo(1)
	// hashalgo(1) left16(2), then the algorithm's MPIs.
	if len(body) < 19 {
		return nil, fmt.Errorf("parse signature packet: %d-byte V3 signature, too short", len(body))
	}
	if v := body[0]; v != 3 && v != 2 {
		return nil, fmt.Errorf("parse signature packet: version %d, not 3", v)
	}
	if body[1] != 5 {
		return nil, fmt.Errorf("parse signature packet: V3 hashed length %d, want 5", body[1])
	}
	s := &SignatureV3{
		SigType:    packet.SignatureType(body[2]),
		Created:    time.Unix(int64(binary.BigEndian.Uint32(body[3:7])), 0),
		KeyID:      binary.BigEndian.Uint64(body[7:15]),
		PubKeyAlgo: packet.PublicKeyAlgorithm(body[15]),
	}
	copy(s.suffix[:], body[2:7])
	h, ok := v3hashes[body[16]]
	if !ok {
		return nil, fmt.Errorf("parse signature packet: unknown hash algorithm %d", body[16])
	}
	s.Hash = h
	copy(s.Left16[:], body[17:19])
	if s.SigType != packet.SigTypeBinary {
		return nil, fmt.Errorf("parse signature packet: signature type %#02x, want binary (0x00)", uint8(s.SigType))
	}
	var want int
	switch s.PubKeyAlgo {
	case packet.PubKeyAlgoRSA, packet.PubKeyAlgoRSASignOnly:
		want = 1
	case packet.PubKeyAlgoDSA:
		want = 2
	default:
		return nil, fmt.Errorf("parse signature packet: V3 signature with public key algorithm %d not supported", s.PubKeyAlgo)
	}
	rest := body[19:]
	for i := 0; i < want; i++ {
		if len(rest) < 2 {
			return nil, errors.New("parse signature packet: truncated MPI")
		}
		bits := int(binary.BigEndian.Uint16(rest))
		n := (bits + 7) / 8
		if len(rest) < 2+n {
			return nil, errors.New("parse signature packet: truncated MPI")
		}
		s.MPIs = append(s.MPIs, new(big.Int).SetBytes(rest[2:2+n]))
		rest = rest[2+n:]
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("parse signature packet: %d bytes after the signature's integers", len(rest))
	}
	return s, nil
}

// PrepareVerify returns the hash to write the signed data into.
func (s *SignatureV3) PrepareVerify() (hash.Hash, error) {
	if !s.Hash.Available() {
		return nil, fmt.Errorf("hash %s not available", hashName(s.Hash))
	}
	return s.Hash.New(), nil
}

// Verify checks s over the data written to h (from PrepareVerify) with
// key, as rpm's pgpVerifySignature does: the digest's first 16 bits must
// match, then the RSA PKCS#1 v1.5 or DSA check.
func (s *SignatureV3) Verify(h hash.Hash, key *packet.PublicKey) error {
	h.Write(s.suffix[:])
	digest := h.Sum(nil)
	if !bytes.Equal(digest[:2], s.Left16[:]) {
		return errors.New("V3 signature: digest prefix mismatch")
	}
	switch pub := key.PublicKey.(type) {
	case *rsa.PublicKey:
		if s.PubKeyAlgo != packet.PubKeyAlgoRSA && s.PubKeyAlgo != packet.PubKeyAlgoRSASignOnly {
			return fmt.Errorf("V3 signature: %s signature from an RSA key", algoName(s.PubKeyAlgo))
		}
		sig := s.MPIs[0].Bytes()
		k := pub.Size()
		if len(sig) > k {
			return errors.New("V3 signature: RSA verification failure")
		}
		sig = append(make([]byte, k-len(sig)), sig...)
		if err := rsa.VerifyPKCS1v15(pub, s.Hash, digest, sig); err != nil {
			return errors.New("V3 signature: RSA verification failure")
		}
		return nil
	case *dsa.PublicKey:
		if s.PubKeyAlgo != packet.PubKeyAlgoDSA {
			return fmt.Errorf("V3 signature: %s signature from a DSA key", algoName(s.PubKeyAlgo))
		}
		// FIPS 186: the digest is cut to the size of q.
		if n := (pub.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		if !dsa.Verify(pub, digest, s.MPIs[0], s.MPIs[1]) {
			return errors.New("V3 signature: DSA verification failure")
		}
		return nil
	}
	return fmt.Errorf("V3 signature: key algorithm %s not supported", algoName(key.PubKeyAlgo))
}
