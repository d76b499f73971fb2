package mailcheck

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"testing"
	"time"
)

// rsaKey is the base64 SubjectPublicKeyInfo of an RSA key of the given
// size: a made-up modulus does, as only its length is judged, and Go
// makes no RSA key under 1024 bits.
func rsaKey(t *testing.T, bits int, pkcs1 bool) string {
	t.Helper()
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.SetBit(n, 0, 1)
	pub := &rsa.PublicKey{N: n, E: 65537}
	if pkcs1 {
		return base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(pub))
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// Every DKIM finding, each on a selector of its own.
func TestDKIM(t *testing.T) {
	edPub, _, _ := ed25519.GenerateKey(nil)
	ed := base64.StdEncoding.EncodeToString(edPub)
	edSPKI, _ := x509.MarshalPKIXPublicKey(edPub)
	k := func(sel, text string) string {
		return sel + `._domainkey.dkim.example. TXT "` + text + `"`
	}
	split := func(sel, text string) string { // a 2048-bit key is longer than one string
		return sel + `._domainkey.dkim.example. TXT "` + text[:200] + `" "` + text[200:] + `"`
	}
	w := newWorld(t, std("dkim.example"),
		split("good", "v=DKIM1; k=rsa; p="+rsaKey(t, 2048, false)),
		split("pkcs1", "v=DKIM1; p="+rsaKey(t, 2048, true)),
		k("short", "v=DKIM1; k=rsa; p="+rsaKey(t, 1024, false)),
		k("tiny", "v=DKIM1; k=rsa; p="+rsaKey(t, 512, false)),
		k("ed", "v=DKIM1; k=ed25519; p="+ed),
		k("edrsa", "v=DKIM1; k=ed25519; p="+rsaKey(t, 1024, false)),
		k("edlong", "v=DKIM1; k=ed25519; p=AAAAAAAA"),
		k("rsaed", "v=DKIM1; k=rsa; p="+ed),
		k("rsaedspki", "v=DKIM1; p="+base64.StdEncoding.EncodeToString(edSPKI)),
		k("two", "v=DKIM1; p="+ed), k("two", "v=DKIM1; p="+ed),
		k("nobase64", "v=DKIM1; p=not*base64"),
		k("unknownk", "v=DKIM1; k=dsa; p="+ed),
		k("sha1", "v=DKIM1; h=sha1; p="+rsaKey(t, 2048, false)[:100]+rsaKey(t, 2048, false)[100:]),
		k("revoked", "v=DKIM1; p="),
		k("nop", "v=DKIM1; k=rsa"),
		k("vlate", "k=rsa; v=DKIM1; p="+ed),
		`prov._domainkey.dkim.example. CNAME prov.dkim.provider.example.`,
		`prov.dkim.provider.example. TXT "v=DKIM1; k=ed25519; p=`+ed+`"`,
		`gone._domainkey.dkim.example. CNAME gone.dkim.provider.example.`,
		"SERVFAIL slow._domainkey.dkim.example",
	)
	ds := []Domain{{Name: "dkim.example", DKIM: []string{"good", "pkcs1", "short", "tiny", "ed", "edrsa", "edlong", "rsaed",
		"rsaedspki", "two", "nobase64", "unknownk", "sha1", "revoked", "nop", "vlate", "prov", "gone", "missing", "slow"}}}
	fs := Check(context.Background(), Options{Exchange: w.exchange, Now: func() time.Time { return now }}, ds)
	golden(t, "dkim", report(ds, onlyCheck(fs, "dkim")))
}
