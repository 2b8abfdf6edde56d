// Package kubernetes holds simlab's Kubernetes manifests (apply them with
// kubectl; docs/load-distributed.md is the how-to): the namespace, the
// configuration, the fleet shards and the front SMSC (*.yaml), a load run
// as an Indexed Job and its merge (run/), and a pod to copy reports out
// (tools/). They are embedded so that tests check them: decoded strictly
// with the Kubernetes API types, and their container arguments parsed by
// simlab's own command line.
package kubernetes

import "embed"

// Files are the manifests, by path relative to deploy/kubernetes.
//
//go:embed *.yaml run/*.yaml tools/*.yaml
var Files embed.FS
