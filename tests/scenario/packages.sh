# SPDX-License-Identifier: GPL-3.0-or-later
# The suite's Debian packages (docs/packages.md), made by CPack from the build
# under test (no second build): oe-xoe, oe-cloe, oe-hoe, oe-goe, each under
# 50 MB and stripped, with their Depends, a man page made from each tool's
# --help and a bash completion made from its command tree (and in step with
# the built tool); oe-xoe installed with dpkg into a scratch folder (its own
# dpkg database) where the installed xoe and poe run; oe-apt-repo's flat
# repository read by apt with a private sources list and state (the system's
# apt state is not touched), and its bad input.
source "${OE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/bed/bed.sh"
bed_init
ok() { bed_log "ok: $*"; }
for tool in dpkg-scanpackages apt-ftparchive help2man; do
  command -v "$tool" >/dev/null || bed_fail "$tool is missing (.ci/packages.txt)"
done
for tool in poe xoe cloe hoe goe; do
  [[ -s $OE_BUILD_DIR/share/man/man1/$tool.1.gz ]] || bed_fail "no man page of $tool in the build (OE_MANPAGES off?)"
done

pkg=$BED_DIR/pkg
cpack -G DEB -B "$pkg" --config "$OE_BUILD_DIR/CPackConfig.cmake" >"$BED_DIR/cpack.log" 2>&1 \
  || { cat "$BED_DIR/cpack.log" >&2; bed_fail "cpack"; }
version=$("$OE_BUILD_DIR/bin/xoe" --version); version=${version#xoe }
arch=$(dpkg --print-architecture)
declare -A tools=([oe-xoe]="xoe poe" [oe-cloe]="cloe" [oe-hoe]="hoe" [oe-goe]="goe")
for p in oe-xoe oe-cloe oe-hoe oe-goe; do
  deb=$pkg/${p}_${version}_${arch}.deb
  [[ -f $deb ]] || bed_fail "no $deb (made: $(ls "$pkg"))"
  bytes=$(stat -c %s "$deb")
  (( bytes < 50 * 1024 * 1024 )) || bed_fail "$p is $bytes bytes (limit 50 MB)"
  bed_assert_eq "$p" "$(dpkg-deb -f "$deb" Package)" "package name"
  bed_assert_eq "$version" "$(dpkg-deb -f "$deb" Version)" "$p version"
  files=$(dpkg-deb -c "$deb")
  dpkg-deb -x "$deb" "$BED_DIR/x-$p"
  for tool in ${tools[$p]}; do
    bed_assert_contains "$files" "./usr/bin/$tool" "$p holds $tool"
    bed_assert_contains "$files" "./usr/share/man/man1/$tool.1.gz" "$p holds the man page of $tool"
    bed_assert_contains "$files" "./usr/share/bash-completion/completions/$tool" "$p holds the completion of $tool"
    # Stripped: no debug sections (debug symbols would go to -dbgsym packages).
    ! readelf -S "$BED_DIR/x-$p/usr/bin/$tool" | grep -q '\.debug_' || bed_fail "$p: /usr/bin/$tool is not stripped"
    # The man page is the tool's own --help: every command of it is on the page.
    page=$(zcat "$BED_DIR/x-$p/usr/share/man/man1/$tool.1.gz")
    bed_assert_contains "$page" ".TH" "$tool.1 is a man page"
    bed_assert_contains "$page" "$version" "$tool.1 names the version"
    while IFS= read -r line; do
      [[ $line == $'\t'* ]] || continue  # the tool's own line (empty path)
      subs=${line#$'\t'} subs=${subs%%$'\t'*}
      for sub in $subs; do bed_assert_contains "$page" "${sub//-/\\-}" "$tool.1 names the command $sub"; done
    done < <("$OE_BUILD_DIR/bin/$tool" --command-tree)
  done
  bed_log "$p: $bytes bytes, Depends: $(dpkg-deb -f "$deb" Depends)"
done
ok "four packages, each under 50 MB, stripped, with a man page and a completion per tool"

depends() { dpkg-deb -f "$pkg/${1}_${version}_${arch}.deb" Depends; }
for d in runit zstd postgresql-client python3 cron libgit2 libc6; do
  bed_assert_contains "$(depends oe-xoe)" "$d" "oe-xoe Depends"
done
for d in "oe-xoe (= $version)" openssh-client libvirt-clients rsync debootstrap apt-utils libvirt0; do
  bed_assert_contains "$(depends oe-cloe)" "$d" "oe-cloe Depends"
done
bed_assert_contains "$(depends oe-hoe)" "oe-cloe (= $version)" "oe-hoe Depends"
xfiles=$(dpkg-deb -c "$pkg/oe-xoe_${version}_${arch}.deb")
for f in ./usr/share/oe/recipes/tryton-7.0.toml ./usr/share/oe/xoe/tryton_guard.py ./usr/share/oe/etc/xoe.toml; do
  bed_assert_contains "$xfiles" "$f" "oe-xoe holds $f"
done
bed_assert_contains "$(dpkg-deb -c "$pkg/oe-cloe_${version}_${arch}.deb")" "./usr/share/oe/cloe/oe-apt-repo" "oe-cloe holds the repository maker"
ok "Depends: oe-xoe what xoe runs and its libraries, oe-cloe on oe-xoe and its tools, oe-hoe on oe-cloe"

# The completion follows the built tool's commands: completing from it gives
# the same words as the tool's command tree, at the top and one level down.
complete_words() {  # complete_words TOOL FILE WORD... (the last is the one completed)
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "_oe_${COMP_WORDS[0]}"; printf "%s\n" "${COMPREPLY[@]}" | sort | xargs' \
    _ "$2" "$1" "${@:3}"
}
for tool in poe xoe cloe hoe goe; do
  p=oe-$tool; [[ $tool == poe ]] && p=oe-xoe
  file=$BED_DIR/x-$p/usr/share/bash-completion/completions/$tool
  while IFS= read -r line; do
    path=${line%%$'\t'*} subs=${line#*$'\t'} subs=${subs%%$'\t'*}
    [[ $path != *" "* ]] || continue  # the tool and its first level
    want=$(tr ' ' '\n' <<<"$subs" | sed '/^$/d' | sort | xargs)
    [[ -z $want ]] && continue
    bed_assert_eq "$want" "$(complete_words "$tool" "$file" $path "")" "completion of '$tool $path'"
  done < <("$OE_BUILD_DIR/bin/$tool" --command-tree)
  bed_assert_contains "$(complete_words "$tool" "$file" config show --js)" "--json" "completion of an option"
done
bed_assert_eq "service" "$(complete_words xoe "$BED_DIR/x-oe-xoe/usr/share/bash-completion/completions/xoe" --root /tmp servic)" \
  "completion after an option's value"
ok "the completions give each tool's commands and options, as its --command-tree does"

# oe-xoe installed by dpkg into a scratch folder with its own database; the
# installed programs run from there and find their recipes beside them.
inst=$BED_DIR/inst admin=$BED_DIR/inst-dpkg
mkdir -p "$inst" "$admin/info" "$admin/updates" "$admin/triggers"
: >"$admin/status"
dpkg --instdir="$inst" --admindir="$admin" --force-depends --force-script-chrootless --log=/dev/null \
  -i "$pkg/oe-xoe_${version}_${arch}.deb" >"$BED_DIR/dpkg.log" 2>&1 || { cat "$BED_DIR/dpkg.log" >&2; bed_fail "dpkg -i oe-xoe"; }
bed_assert_eq "install ok installed" "$(dpkg-query --admindir="$admin" -W -f='${Status}' oe-xoe)" "dpkg status of oe-xoe"
for tool in xoe poe; do
  out=$("$inst/usr/bin/$tool" --help) || bed_fail "installed $tool --help"
  bed_assert_contains "$out" "Usage" "installed $tool --help"
  bed_assert_eq "$tool $version" "$("$inst/usr/bin/$tool" --version)" "installed $tool --version"
done
mkdir "$BED_DIR/xroot"
out=$(OE_XOE_SOFTWARE_RECIPES= "$inst/usr/bin/xoe" --root "$BED_DIR/xroot" software list --json) || bed_fail "installed xoe software list"
bed_assert_contains "$out" '"version": "7.0"' "the installed xoe reads the installed recipes"
dpkg --instdir="$inst" --admindir="$admin" --force-script-chrootless --log=/dev/null -r oe-xoe >/dev/null 2>&1 || bed_fail "dpkg -r oe-xoe"
[[ ! -e $inst/usr/bin/xoe ]] || bed_fail "xoe left after dpkg -r"
ok "oe-xoe installs with dpkg into a scratch root, its xoe and poe run there, and it removes cleanly"

# The flat repository, read by apt with its own sources list and state.
repo=$BED_DIR/repo
out=$(bash "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$repo" "$pkg") || bed_fail "oe-apt-repo"
bed_assert_contains "$out" "4 packages" "oe-apt-repo's report"
for f in Packages Packages.gz Release "oe-xoe_${version}_${arch}.deb"; do [[ -s $repo/$f ]] || bed_fail "no $f in the repository"; done
bed_assert_contains "$(cat "$repo/Release")" "Packages.gz" "Release lists Packages.gz"
bed_assert_eq "$(sha256sum <"$repo/Packages.gz" | cut -d' ' -f1)" \
  "$(awk '/^SHA256:/{s=1;next} /^[^ ]/{s=0} s && $3=="Packages.gz"{print $1}' "$repo/Release")" "Release's checksum of Packages.gz"
before=$(sha256sum "$repo/Packages" "$repo/Release")
printf 'not a package\n' >"$BED_DIR/junk.deb"
rc=0; err=$(bash "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$repo" "$BED_DIR/junk.deb" 2>&1) || rc=$?
bed_assert_eq 2 "$rc" "oe-apt-repo of a file that is not a package"
bed_assert_eq "oe-apt-repo: not a Debian package: $BED_DIR/junk.deb" "$err" "its one-line error"
rc=0; err=$(bash "$OE_SOURCE_DIR/packaging/oe-apt-repo" "$repo" "$BED_DIR/missing.deb" 2>&1) || rc=$?
bed_assert_eq 2 "$rc" "oe-apt-repo of a missing file"
bed_assert_eq 1 "$(wc -l <<<"$err")" "one line"
rc=0; bash "$OE_SOURCE_DIR/packaging/oe-apt-repo" >/dev/null 2>&1 || rc=$?
bed_assert_eq 2 "$rc" "oe-apt-repo without a folder"
bed_assert_eq "$before" "$(sha256sum "$repo/Packages" "$repo/Release")" "the repository after refused input"
[[ ! -e $repo/junk.deb ]] || bed_fail "the refused file was copied in"

mkdir -p "$BED_DIR/apt/lists/partial" "$BED_DIR/apt/cache/archives/partial"
echo "deb [trusted=yes] file:$repo ./" >"$BED_DIR/apt/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$BED_DIR/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o Dir::State::Lists="$BED_DIR/apt/lists" -o Dir::Cache="$BED_DIR/apt/cache"
          -o Debug::NoLocking=1)
lists_before=$(ls -l --time-style=+%s.%N /var/lib/apt/lists 2>/dev/null | sha256sum)
apt-get "${apt_opts[@]}" update >"$BED_DIR/apt.log" 2>&1 || { cat "$BED_DIR/apt.log" >&2; bed_fail "apt-get update of the flat repository"; }
policy=$(apt-cache "${apt_opts[@]}" policy oe-xoe oe-cloe oe-hoe oe-goe)
bed_assert_contains "$policy" "Candidate: $version" "apt-cache policy: the candidate"
bed_assert_contains "$policy" "file:$repo ./" "apt-cache policy: from the flat repository"
for p in oe-xoe oe-cloe oe-hoe oe-goe; do bed_assert_contains "$policy" "$p:" "apt-cache policy names $p"; done
# apt resolves oe-hoe (and so oe-cloe and oe-xoe) from it on this host.
sim=$(apt-get "${apt_opts[@]}" install --simulate -q oe-hoe 2>&1) || { echo "$sim" >&2; bed_fail "apt-get install --simulate oe-hoe"; }
for p in oe-xoe oe-cloe oe-hoe; do bed_assert_contains "$sim" "Inst $p" "apt would install $p"; done
bed_assert_eq "$lists_before" "$(ls -l --time-style=+%s.%N /var/lib/apt/lists 2>/dev/null | sha256sum)" "the system's apt lists"
ok "oe-apt-repo makes a flat repository apt reads (update, policy, a simulated install of oe-hoe); bad input refused, nothing changed"
