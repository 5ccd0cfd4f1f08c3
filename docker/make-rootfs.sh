#!/bin/sh
# Lays out the image's whole file system under ROOTFS (used by the Dockerfile's build stage):
#   make-rootfs.sh BINARY CONFIG ROOTFS
# The binary goes to /usr/local/bin, the configuration to /etc/stackhouse/application.yml, every
# shared library the binary loads (its ldd closure, the dynamic loader included) to
# /usr/lib/x86_64-linux-gnu (or the loader's own directory) with /lib and /lib64 as links, as
# on Debian, and the copyright file of each Debian package a library came from to
# /usr/share/doc. /etc/passwd and /etc/group name the user stackhouse (10001), who owns the data
# directory /var/lib/stackhouse.
set -eu
binary=$1 config=$2 root=$3
uid=10001

mkdir -p "$root/usr/local/bin" "$root/usr/lib" "$root/etc/stackhouse" "$root/var/lib/stackhouse" \
  "$root/tmp" "$root/usr/share/doc"
chmod 1777 "$root/tmp"
ln -s usr/lib "$root/lib"
cp "$binary" "$root/usr/local/bin/stackhouse"
cp "$config" "$root/etc/stackhouse/application.yml"

# `ldd` prints "name => /path (addr)" for each library and "/path (addr)" for the loader.
libs=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "make-rootfs: ldd found no libraries for $binary" >&2; exit 1; }
for lib in $libs; do
  real=$(readlink -f "$lib")
  dir=$(dirname "$real")            # /usr/lib/x86_64-linux-gnu on Debian 12
  case $dir in /lib*) dir=/usr$dir ;; esac
  mkdir -p "$root$dir"
  cp "$real" "$root$dir/$(basename "$lib")"
  # The loader is also needed under the path the binary names (/lib64/ld-linux-x86-64.so.2).
  named=$lib
  case $named in /lib*) named=/usr$named ;; esac
  if [ ! -e "$root$named" ]; then
    mkdir -p "$root$(dirname "$named")"
    ln -s "$dir/$(basename "$lib")" "$root$named"
  fi
  package=$(dpkg -S "$real" 2>/dev/null | head -n 1 | cut -d: -f1) || true
  if [ -n "$package" ] && [ -f "/usr/share/doc/$package/copyright" ]; then
    mkdir -p "$root/usr/share/doc/$package"
    cp "/usr/share/doc/$package/copyright" "$root/usr/share/doc/$package/copyright"
  fi
done
[ -d "$root/usr/lib64" ] && ln -s usr/lib64 "$root/lib64"

cat > "$root/etc/passwd" <<PASSWD
root:x:0:0:root:/root:/nonexistent
stackhouse:x:$uid:$uid:Stackhouse:/var/lib/stackhouse:/nonexistent
PASSWD
cat > "$root/etc/group" <<GROUP
root:x:0:
stackhouse:x:$uid:
GROUP
chown "$uid:$uid" "$root/var/lib/stackhouse"

# The image must run what it holds: started by the copied loader with only the copied libraries
# (no system cache, no system directories), the binary answers --version.
loader=$(ldd "$binary" | awk '$1 ~ /^\// { print $1 }')
if ! "$root$(readlink -f "$loader")" --inhibit-cache \
    --library-path "$root/usr/lib/x86_64-linux-gnu" "$root/usr/local/bin/stackhouse" --version \
    >/dev/null; then
  echo "make-rootfs: the binary does not start with the libraries copied to $root" >&2; exit 1
fi
