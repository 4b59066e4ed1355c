"""What a cluster runs, generated from the topology: Kubernetes manifests, the gateway's Envoy config."""
