# shellcheck shell=sh
# kpt validator (image kpt-fn/require-labels): every item must carry app.kubernetes.io/name.
# Passes the ResourceList through unchanged when it holds; fails (exit 1) naming the problem.
input=$(/bin/busybox cat)
kinds=$(printf '%s\n' "$input" | /bin/busybox grep -c '^  kind: ')
labelled=$(printf '%s\n' "$input" | /bin/busybox grep -c 'app.kubernetes.io/name:')
if [ "$labelled" -lt "$kinds" ]; then
  echo "require-labels: $kinds items but only $labelled carry app.kubernetes.io/name" >&2
  exit 1
fi
printf '%s\n' "$input"
