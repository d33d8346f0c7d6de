package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/linkd/linkd/internal/textlist"

	"github.com/linkd/linkd/cluster/peerauth"
)

// peerFlags choose how nodes authenticate each other on the raft port.
type peerFlags struct {
	secret, caFile, certFile, keyFile string
	insecure                          bool
}

func (f *peerFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.secret, "cluster-secret", "", "shared secret of the cluster's nodes (at least 32 characters; prefer LINKD_CLUSTER_SECRET to the command line); "+
		"comma-separated during a rotation: certificates come from the first, any listed is accepted")
	fs.StringVar(&f.caFile, "cluster-ca", "", "instead of --cluster-secret: PEM file of the CA(s) whose certificates make a peer a member (mutual TLS)")
	fs.StringVar(&f.certFile, "cluster-cert", "", "with --cluster-ca: this node's PEM certificate, for both server and client authentication")
	fs.StringVar(&f.keyFile, "cluster-key", "", "with --cluster-ca: this node's PEM private key")
	fs.BoolVar(&f.insecure, "insecure-cluster", false, "let a cluster run without peer authentication: any process that reaches the raft port can join, write and read everything")
}

// errNeedsSecret is why a clustered node without credentials refuses to start.
var errNeedsSecret = errors.New("a node with --join or --bootstrap-expect needs peer authentication, so that only members talk to members: " +
	"give every node the same --cluster-secret (or LINKD_CLUSTER_SECRET; make one with: head -c 32 /dev/urandom | base64), " +
	"or --cluster-ca, --cluster-cert and --cluster-key; --insecure-cluster runs without, for a network where every process is trusted")

// auth builds the node's peer authentication. clustered says the node was
// asked to join or bootstrap with others; a lone node without credentials
// gets a random secret of its own, so its raft port admits nobody.
func (f *peerFlags) auth(clustered bool, nodeID string) (*peerauth.Auth, error) {
	files := f.caFile != "" || f.certFile != "" || f.keyFile != ""
	switch {
	case f.secret != "" && files:
		return nil, errors.New("use either --cluster-secret or --cluster-ca/--cluster-cert/--cluster-key, not both")
	case f.insecure && (f.secret != "" || files):
		return nil, errors.New("--insecure-cluster contradicts --cluster-secret and --cluster-ca/--cluster-cert/--cluster-key")
	case f.secret != "":
		a, err := peerauth.FromSecrets(textlist.Split(f.secret), nodeID)
		if err != nil {
			return nil, fmt.Errorf("--cluster-secret: %w", err)
		}
		return a, nil
	case files:
		if f.caFile == "" || f.certFile == "" || f.keyFile == "" {
			return nil, errors.New("mutual TLS needs all three of --cluster-ca, --cluster-cert and --cluster-key")
		}
		return peerauth.FromFiles(f.caFile, f.certFile, f.keyFile)
	case f.insecure:
		return peerauth.Insecure(), nil
	case clustered:
		return nil, errNeedsSecret
	}
	return peerauth.Ephemeral(nodeID), nil
}

// none says no peer authentication option was given at all.
func (f *peerFlags) none() bool {
	return *f == peerFlags{}
}
