#!/bin/sh
# check_binary.sh BINARY MODE [READELF [OBJDUMP]]: that a release binary
# runs where its package says it does.
#   MODE floor: dynamic, against glibc 2.31 or later: no GLIBC_ symbol
#               version above 2.31, no GLIBCXX_/CXXABI_ (libstdc++ linked in),
#               and only the C library and libgcc_s as shared libraries.
#   MODE armv6: static, ARMv6 (Tag_CPU_arch v6...), no Thumb-2, so that an
#               ARM1176 (Pi Zero, Pi 1) runs every instruction of it.
# READELF and OBJDUMP default to the build machine's; a cross build passes
# its own (CMake's CMAKE_READELF/CMAKE_OBJDUMP). Prints one ok/FAIL line per
# check; exits 1 on any failure.
set -u
bin=$1
mode=$2
readelf=${3:-readelf}
objdump=${4:-objdump}
fails=0

ok() { echo "ok - $bin: $1"; }
bad() {
    echo "FAIL - $bin: $1"
    fails=$((fails + 1))
}

[ -f "$bin" ] || { echo "FAIL - $bin: no such file"; exit 1; }
dynamic=$("$readelf" -d "$bin" 2>&1)
attrs=$("$readelf" -A "$bin" 2>&1)

case "$mode" in
floor)
    needed=$(echo "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    if [ -z "$needed" ]; then
        bad "not dynamically linked"
    else
        ok "shared libraries: $needed"
    fi
    others=$(echo "$needed" | tr ' ' '\n' | grep -v -E '^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1|ld-linux[-a-z0-9_.]*\.so\.[0-9]+)?$' | tr '\n' ' ')
    if [ -n "$others" ]; then bad "needs more than the C library and libgcc_s: $others"; else ok "needs only the C library and libgcc_s"; fi
    versions=$("$objdump" -T "$bin" | grep -o -E '\((GLIBC|GLIBCXX|CXXABI)_[0-9.]+\)' | tr -d '()' | sort -u -V)
    newest=$(echo "$versions" | grep '^GLIBC_' | sort -V | tail -1)
    if [ -z "$newest" ]; then
        bad "no GLIBC_ symbol versions found (objdump -T)"
    elif [ "$(printf '%s\n%s\n' "$newest" GLIBC_2.31 | sort -V | tail -1)" = GLIBC_2.31 ]; then
        ok "newest glibc symbol version $newest (ceiling GLIBC_2.31)"
    else
        bad "needs $newest, above the ceiling GLIBC_2.31: $(echo "$versions" | tr '\n' ' ')"
    fi
    cxx=$(echo "$versions" | grep -E '^(GLIBCXX|CXXABI)_' | tr '\n' ' ')
    if [ -n "$cxx" ]; then bad "uses the shared libstdc++: $cxx"; else ok "no shared libstdc++ symbols"; fi
    ;;
armv6)
    if echo "$dynamic" | grep -q 'There is no dynamic section'; then ok "static"; else bad "not static (it has a dynamic section)"; fi
    arch=$(echo "$attrs" | sed -n 's/^ *Tag_CPU_arch: *//p')
    case "$arch" in
    v6*) ok "Tag_CPU_arch $arch" ;;
    *) bad "Tag_CPU_arch '$arch', not ARMv6" ;;
    esac
    thumb=$(echo "$attrs" | sed -n 's/^ *Tag_THUMB_ISA_use: *//p')
    case "$thumb" in
    *Thumb-2*) bad "Tag_THUMB_ISA_use '$thumb'" ;;
    *) ok "Tag_THUMB_ISA_use '${thumb:-none}' (no Thumb-2)" ;;
    esac
    fp=$(echo "$attrs" | sed -n 's/^ *Tag_FP_arch: *//p')
    case "$fp" in
    "" | VFPv1 | VFPv2) ok "Tag_FP_arch '${fp:-none}' (the ARM1176 has VFPv2)" ;;
    *) bad "Tag_FP_arch '$fp': more than the ARM1176's VFPv2" ;;
    esac
    ;;
*)
    echo "usage: check_binary.sh BINARY floor|armv6 [READELF [OBJDUMP]]" >&2
    exit 2
    ;;
esac
[ "$fails" -eq 0 ]
