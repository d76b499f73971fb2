package zone

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// certFile is what TLSA records are made from in a PEM file: its
// certificates, leaf first, or for a file of a key alone (the next key of
// a renewal, published before its certificate exists) the key's
// SubjectPublicKeyInfo.
type certFile struct {
	certs []*x509.Certificate
	spki  []byte
}

// parseCertFile reads a PEM file. A file with certificates is read for
// them alone: a private key beside them (a combined file, as some tools
// write) is not needed, and may be encrypted or of a kind Go does not
// read. mustCert says the file is cert:, which must hold a certificate.
func parseCertFile(text []byte, mustCert bool) (certFile, error) {
	var f certFile
	var blocks []*pem.Block
	for rest := text; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		blocks = append(blocks, b)
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return certFile{}, fmt.Errorf("certificate %d: %w", len(f.certs)+1, err)
		}
		f.certs = append(f.certs, c)
	}
	if len(f.certs) > 0 {
		return f, nil
	}
	if mustCert {
		return certFile{}, fmt.Errorf("holds no certificate (want a PEM file, leaf first)%s", found(blocks))
	}
	// A public key, else a private key the public key is taken from: a
	// file may hold both, and only the private key may be encrypted.
	for _, b := range blocks {
		if b.Type == "PUBLIC KEY" {
			if _, err := x509.ParsePKIXPublicKey(b.Bytes); err != nil {
				return certFile{}, fmt.Errorf("public key: %w", err)
			}
			f.spki = b.Bytes
			return f, nil
		}
	}
	encrypted := false
	for _, b := range blocks {
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(b.Headers["Proc-Type"], "ENCRYPTED"):
			encrypted = true
		case b.Type == "PRIVATE KEY" || b.Type == "EC PRIVATE KEY" || b.Type == "RSA PRIVATE KEY":
			pub, err := publicOf(b)
			if err != nil {
				return certFile{}, err
			}
			if f.spki, err = x509.MarshalPKIXPublicKey(pub); err != nil {
				return certFile{}, fmt.Errorf("private key: %w", err)
			}
			return f, nil
		}
	}
	if encrypted {
		return certFile{}, errors.New("holds an encrypted private key, which mxdns cannot read without its passphrase: " +
			"give the public key instead (openssl pkey -in KEY -pubout), or the next certificate")
	}
	return certFile{}, fmt.Errorf("holds no certificate, public key or private key in PEM%s", found(blocks))
}

// found names the PEM blocks a file held, for a message saying none was
// of use.
func found(blocks []*pem.Block) string {
	var types []string
	for _, b := range blocks {
		if !slices.Contains(types, b.Type) {
			types = append(types, b.Type)
		}
	}
	if len(types) == 0 {
		return ""
	}
	return " (found " + strings.Join(types, ", ") + ")"
}

func publicOf(b *pem.Block) (crypto.PublicKey, error) {
	var key any
	var err error
	switch b.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key: not a signing key")
	}
	return signer.Public(), nil
}

// data is the certificate association data (RFC 6698 §2.1) for usage,
// selector and matching type: from the leaf (usage 1 and 3) or the last
// certificate of the chain, the issuer's end (0 and 2); the whole
// certificate (selector 0) or its public key (1).
func (f certFile) data(usage, selector, match uint8) (string, error) {
	var data []byte
	switch {
	case len(f.certs) > 0:
		c := f.certs[0]
		if usage == 0 || usage == 2 {
			c = f.certs[len(f.certs)-1]
		}
		data = c.Raw
		if selector == 1 {
			data = c.RawSubjectPublicKeyInfo
		}
	case selector == 0:
		return "", errors.New("holds a key but no certificate, and selector 0 publishes the whole certificate: use selector 1, or give the next certificate")
	default:
		data = f.spki
	}
	switch match {
	case 1:
		sum := sha256.Sum256(data)
		data = sum[:]
	case 2:
		sum := sha512.Sum512(data)
		data = sum[:]
	}
	return hex.EncodeToString(data), nil
}

// pem is what a last good copy of the file keeps: its certificates, or
// the public key of a key file. A private key never goes into the state
// directory.
func (f certFile) pem() []byte {
	var b bytes.Buffer
	for _, c := range f.certs {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	if len(f.certs) == 0 {
		pem.Encode(&b, &pem.Block{Type: "PUBLIC KEY", Bytes: f.spki})
	}
	return b.Bytes()
}
