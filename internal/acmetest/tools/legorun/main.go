// Command legorun obtains a certificate from an ACME server with lego's
// library and its RFC 2136 provider (dnsupdate, "rfc2136" on lego's
// command line), the way `lego --dns rfc2136` does, pointed at one name
// server for everything: the updates, the CNAME look-up and the
// propagation check. With -pause it stops after each challenge record
// is added, prints "presented NAME" and waits for a line on its input
// before the ACME server is told to check: a test restarts the name
// server there.
package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/providers/dns/dnsupdate"
	"github.com/go-acme/lego/v5/registration"
)

type user struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *user) GetEmail() string                       { return "" }
func (u *user) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer           { return u.key }

// pausing stops after Present until a line comes on stdin.
type pausing struct {
	challenge.ProviderTimeout
	in *bufio.Reader
}

func (p pausing) Present(ctx context.Context, domain, token, keyAuth string) error {
	if err := p.ProviderTimeout.Present(ctx, domain, token, keyAuth); err != nil {
		return err
	}
	fmt.Printf("presented %s\n", dns01.GetChallengeInfo(ctx, domain, keyAuth).EffectiveFQDN)
	if _, err := p.in.ReadString('\n'); err != nil {
		return fmt.Errorf("waiting to go on: %w", err)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "legorun:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "ACME directory URL")
	caFile := flag.String("ca", "", "PEM file of the certificate the ACME server's HTTPS uses")
	server := flag.String("dns", "", "name server host:port taking the updates and answering the checks")
	zone := flag.String("zone", "", "zone the challenge records go in")
	key := flag.String("key", "", "TSIG key name")
	secret := flag.String("secret", "", "TSIG secret, base64")
	alg := flag.String("algorithm", "hmac-sha256.", "TSIG algorithm")
	domain := flag.String("domain", "", "name to certify")
	out := flag.String("out", "", "file to write the certificate chain to")
	pause := flag.Bool("pause", false, "wait for a line on stdin after each challenge record is added")
	flag.Parse()
	if *dir == "" || *server == "" || *domain == "" || *out == "" {
		return errors.New("-dir, -dns, -domain and -out are required")
	}
	pem, err := os.ReadFile(*caFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s: no certificate", *caFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Every DNS question lego asks goes to the server under test.
	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{*server}, Timeout: 5 * time.Second}))

	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	u := &user{key: k}
	cfg := lego.NewConfig(u)
	cfg.CADirURL = *dir
	cfg.HTTPClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	client, err := lego.NewClient(cfg)
	if err != nil {
		return err
	}

	pc := dnsupdate.NewDefaultConfig()
	pc.Nameserver = *server
	pc.Zones = []string{*zone}
	pc.TSIGKey, pc.TSIGSecret, pc.TSIGAlgorithm = *key, *secret, *alg
	pc.TTL = 60
	pc.PropagationTimeout, pc.PollingInterval = 30*time.Second, 500*time.Millisecond
	pc.SequenceInterval = time.Second
	provider, err := dnsupdate.NewDNSProviderConfig(pc)
	if err != nil {
		return err
	}
	var p challenge.Provider = provider
	if *pause {
		p = pausing{ProviderTimeout: provider, in: bufio.NewReader(os.Stdin)}
	}
	// The authoritative check would ask the zone's NS records, on port
	// 53; the "recursive" one asks -dns, which is the authority here.
	if err := client.Challenge.SetDNS01Provider(p, dns01.DisableAuthoritativeNssPropagationRequirement()); err != nil {
		return err
	}
	if u.reg, err = client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: []string{*domain}, KeyType: certcrypto.EC256, Bundle: true})
	if err != nil {
		return fmt.Errorf("obtain: %w", err)
	}
	// Written aside and renamed into place, as a client should: a
	// watcher of the file (the TLSA made from it) never reads half.
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, res.Certificate, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Printf("certificate %s\n", res.CertURL)
	return nil
}
