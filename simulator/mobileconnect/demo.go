package mobileconnect

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// DemoRequestKeyPEM is the demo client's request-object signing key
// (ES256, PKCS#8). It is published here on purpose, like the demo secret:
// TEST ONLY. `simlab mc si` signs the demo client's Server-Initiated
// requests with it; the demo client's registered jwks holds its public key.
const DemoRequestKeyPEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgULW3FHfwKW/LqJrF
pq5JfCnmdWzH8UjdDL78kZrE5rOhRANCAARAzpX2l4VIjh/vhglHyOAvrQsgwa2K
HKK7OezsS2/4tkyM8SX9cygeaKqMZHxTyQBdkRN1rWK9XBa1Bywq4FZc
-----END PRIVATE KEY-----
`

var demoKey = sync.OnceValues(func() (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(DemoRequestKeyPEM))
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	return k.(crypto.Signer), nil
})

// DemoRequestKey returns the demo client's request-object key (test only).
func DemoRequestKey() crypto.Signer {
	k, err := demoKey()
	if err != nil {
		panic("mobileconnect: the embedded demo key does not parse: " + err.Error())
	}
	return k
}

// demoJWKS is the demo client's public key set.
func demoJWKS() string {
	j := jose.JSONWebKey{Key: DemoRequestKey().Public(), Use: "sig", Algorithm: string(jose.ES256)}
	j.KeyID = thumbprint(&j)
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{j}})
	return string(b)
}
