#!/usr/bin/env bash
# check_packages.sh BUILD_DIR: keeps deploy/Dockerfile's package installs in step with the package lists and
# with what a build really links. Runs from any directory; exits 0 when everything agrees, 1 naming each
# mismatch, 2 on bad usage or a missing tool.
#
#   1. The `build` stage installs exactly deploy/debian-packages.txt (the list ./rally installs) plus
#      BUILD_EXTRAS (nodejs and npm, which ./rally's ensure_npm_tools adds: solc-js and anvil come from npm).
#   2. deploy/runtime-packages.txt covers every shared library the shipped binaries link: the files the
#      Dockerfile copies out of the build stage are read from BUILD_DIR (build/release, build/asan, ...) and
#      the repository; each DT_NEEDED entry is resolved with `ldconfig -p` and mapped to its package with
#      `dpkg -S`. A package is covered when listed, present in debian:bookworm-slim (BASE_PACKAGES) or
#      pulled in by a listed package's dependencies (as apt-get does). A listed package no binary links
#      directly is an error, unless its comment starts with `extra:` and says why (curl, ca-certificates).
#   3. The `runtime` stage installs exactly deploy/runtime-packages.txt, and every image target builds on it
#      without installing anything else.
#
# An apt-get install line may name packages literally or read a list file the stage copied in, written as
# $(sed 's/#.*//' /path/in/image) (the comment stripping ./rally does); any other expansion is refused.
set -euo pipefail
export LC_ALL=C # one collation for sort and comm

REPO_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
DOCKERFILE=$REPO_DIR/deploy/Dockerfile
BUILD_LIST=$REPO_DIR/deploy/debian-packages.txt
RUNTIME_LIST=$REPO_DIR/deploy/runtime-packages.txt
BUILD_STAGE=build
RUNTIME_STAGE=runtime
BUILD_EXTRAS=(nodejs npm)
# In debian:bookworm-slim already: apt (priority required, so in every Debian image) depends on all three.
# libc6 also holds libm, libpthread and the dynamic loader.
BASE_PACKAGES=(libc6 libgcc-s1 libstdc++6)
# Sanitizer runtimes only appear in sanitizer builds, which are never shipped.
IGNORED_LIBRARIES='^lib(asan|ubsan|lsan|tsan|hwasan)\.so'
LIST_PREFIX="\$(sed 's/#.*//' "

usage() {
  printf 'usage: %s BUILD_DIR   (e.g. build/release or build/asan)\n' "$0" >&2
  exit 2
}

(($# == 1)) || usage
[[ -d $1 ]] || {
  printf 'check_packages: build directory %s not found\n' "$1" >&2
  exit 2
}
BUILD_DIR=$(cd "$1" && pwd)

for tool in readelf ldconfig dpkg dpkg-query awk sort; do
  command -v "$tool" >/dev/null || {
    printf 'check_packages: %s is required (a Debian system with binutils)\n' "$tool" >&2
    exit 2
  }
done

ERRORS=()
error() { ERRORS+=("$*"); }

# The package names of a list file: comments stripped, one word per name (as ./rally reads it).
list_packages() {
  sed 's/#.*//' "$1" | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u
}

# The names on lines whose comment starts with `extra:`; a marker without a reason is an error.
extra_packages() {
  awk -v file="${1#"$REPO_DIR"/}" '
    /#/ {
      names = $0; sub(/#.*/, "", names)
      comment = $0; sub(/^[^#]*#[[:space:]]*/, "", comment)
      if (comment ~ /^extra:/ && names ~ /[^[:space:]]/) {
        reason = comment; sub(/^extra:[[:space:]]*/, "", reason)
        if (reason == "") { printf "ERROR %s:%d: `# extra:` needs a reason\n", file, NR; next }
        n = split(names, words)
        for (i = 1; i <= n; i++) print words[i]
      }
    }' "$1"
}

# Prints the Dockerfile as logical instructions, one per line: stage, instruction, arguments (tab-separated).
# Continuation lines are joined and comment lines dropped, as Docker does. A FROM line's arguments are its
# base and the stage name.
dockerfile_instructions() {
  awk '
    function emit(text,   instr, rest, n, w) {
      sub(/^[[:space:]]+/, "", text)
      instr = toupper(text); sub(/[[:space:]].*/, "", instr)
      rest = text; sub(/^[^[:space:]]+[[:space:]]*/, "", rest)
      if (instr == "FROM") {
        n = split(rest, w)
        base = (w[1] ~ /^--/) ? w[2] : w[1]
        stage = (n >= 3 && toupper(w[n - 1]) == "AS") ? tolower(w[n]) : "stage" ++count
        rest = tolower(base) " " stage
      }
      printf "%s\t%s\t%s\n", stage, instr, rest
    }
    { sub(/\r$/, "") }
    /^[[:space:]]*#/ { next }
    buffer == "" && /^[[:space:]]*$/ { next }
    /\\[[:space:]]*$/ { line = $0; sub(/\\[[:space:]]*$/, "", line); buffer = buffer line " "; next }
    { emit(buffer $0); buffer = "" }
    END { if (buffer != "") emit(buffer) }' "$DOCKERFILE"
}

# Records an error for each name of the expected list the actual one lacks, and the other way round.
compare_sets() {
  local what=$1 expected=$2 actual=$3 name
  while read -r name; do
    if [[ -n $name ]]; then error "$what: does not install $name"; fi
  done < <(comm -23 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual"))
  while read -r name; do
    if [[ -n $name ]]; then error "$what: installs $name, which is not in the list"; fi
  done < <(comm -13 <(printf '%s\n' "$expected") <(printf '%s\n' "$actual"))
}

[[ -r $DOCKERFILE ]] || {
  printf 'check_packages: %s not found\n' "$DOCKERFILE" >&2
  exit 2
}
mapfile -t INSTRUCTIONS < <(dockerfile_instructions)

# ---------------------------------------------------------------------------------------------------------
# Stages: their bases, the files each COPY puts where, and what each apt-get install names.

declare -A STAGE_BASE=() COPIED=() INSTALLS=() WORKDIR=()
declare -a STAGES=() BINARY_SOURCES=()
for entry in "${INSTRUCTIONS[@]}"; do
  IFS=$'\t' read -r stage instr args <<<"$entry"
  case $instr in
    FROM)
      STAGES+=("$stage")
      STAGE_BASE[$stage]=${args%% *}
      INSTALLS[$stage]=""
      ;;
    WORKDIR)
      [[ -n ${WORKDIR[$stage]:-} ]] || WORKDIR[$stage]=$args
      ;;
    COPY)
      read -ra words <<<"$args"
      from="" sources=()
      for word in "${words[@]}"; do
        case $word in
          --from=*) from=${word#--from=} ;;
          --*) ;;
          *) sources+=("$word") ;;
        esac
      done
      ((${#sources[@]} >= 2)) || continue
      dest=${sources[-1]}
      unset 'sources[-1]'
      for source in "${sources[@]}"; do
        target=$dest
        [[ $dest == */ ]] && target=$dest${source##*/}
        if [[ -z $from ]]; then
          COPIED[$stage:$target]=$source
        elif [[ ${from,,} == "$BUILD_STAGE" ]]; then
          BINARY_SOURCES+=("$source")
        fi
      done
      ;;
    RUN)
      command=$args
      while [[ $command == *"apt-get install"* ]]; do
        command=${command#*apt-get install}
        segment=${command%%&&*}
        segment=${segment%%;*}
        segment=${segment%%|*}
        words_text=""
        while [[ $segment == *"$LIST_PREFIX"* ]]; do
          words_text+=" ${segment%%"$LIST_PREFIX"*}"
          after=${segment#*"$LIST_PREFIX"}
          path=${after%%)*}
          segment=${after#*)}
          source=${COPIED[$stage:$path]:-}
          if [[ -z $source ]]; then
            error "Dockerfile stage $stage: apt-get install reads $path, which no COPY in that stage provides"
          elif [[ ! -r $REPO_DIR/$source ]]; then
            error "Dockerfile stage $stage: apt-get install reads $source, which does not exist"
          else
            INSTALLS[$stage]+=" $(list_packages "$REPO_DIR/$source" | tr '\n' ' ')"
          fi
        done
        words_text+=" $segment"
        read -ra words <<<"$words_text"
        for word in "${words[@]}"; do
          if [[ $word == -* ]]; then
            continue
          elif [[ $word =~ [\$\`\(\)\"\'] ]]; then
            error "Dockerfile stage $stage: cannot read the apt-get install word '$word'; name packages" \
              "literally or read a copied list as $LIST_PREFIX/path)"
          else
            INSTALLS[$stage]+=" $word"
          fi
        done
      done
      ;;
  esac
done

# The package names in a Depends field on stdin (every alternative; versions and :arch dropped).
dependency_names() {
  tr ',|' '\n\n' | sed 's/(.*)//; s/:[a-z0-9]*//; s/[[:space:]]//g; /^$/d'
}

installed_by() { tr ' ' '\n' <<<"${INSTALLS[$1]:-}" | sed '/^$/d' | sort -u; }

# ---------------------------------------------------------------------------------------------------------
# Checks 1 and 3: what the build and runtime stages install.

if [[ -z ${STAGE_BASE[$BUILD_STAGE]:-} ]]; then
  error "Dockerfile: no stage named $BUILD_STAGE"
else
  compare_sets "Dockerfile stage $BUILD_STAGE (deploy/debian-packages.txt + ${BUILD_EXTRAS[*]})" \
    "$( (list_packages "$BUILD_LIST"; printf '%s\n' "${BUILD_EXTRAS[@]}") | sort -u)" \
    "$(installed_by "$BUILD_STAGE")"
fi
if [[ -z ${STAGE_BASE[$RUNTIME_STAGE]:-} ]]; then
  error "Dockerfile: no stage named $RUNTIME_STAGE"
else
  compare_sets "Dockerfile stage $RUNTIME_STAGE (deploy/runtime-packages.txt)" \
    "$(list_packages "$RUNTIME_LIST")" "$(installed_by "$RUNTIME_STAGE")"
fi
# Every image target is the runtime stage plus files: anything else would ship packages no list names.
for stage in "${STAGES[@]}"; do
  [[ $stage == "$BUILD_STAGE" || $stage == "$RUNTIME_STAGE" ]] && continue
  if [[ ${STAGE_BASE[$stage]} != "$RUNTIME_STAGE" ]]; then
    error "Dockerfile stage $stage: builds FROM ${STAGE_BASE[$stage]}, not FROM $RUNTIME_STAGE"
  fi
  if [[ -n $(installed_by "$stage") ]]; then
    error "Dockerfile stage $stage: installs packages ($(installed_by "$stage" | tr '\n' ' ')); add them to" \
      "deploy/runtime-packages.txt instead"
  fi
done

# ---------------------------------------------------------------------------------------------------------
# Check 2: the runtime list against the libraries the shipped binaries link.

# The base packages must really be in the slim image: apt's dependencies, on this Debian system.
apt_priority=$(dpkg-query -W -f='${Priority}' apt 2>/dev/null || true)
apt_depends=$(dpkg-query -W -f='${Depends}, ${Pre-Depends}' apt 2>/dev/null | dependency_names | tr '\n' ' ')
apt_depends=" $apt_depends"
for pkg in "${BASE_PACKAGES[@]}"; do
  if [[ $apt_priority != required || $apt_depends != *" $pkg "* ]]; then
    error "cannot confirm that $pkg is in debian:bookworm-slim (it is not a dependency of apt here)"
  fi
done

# Where the build stage's files are in this checkout: <workdir>/build/<preset>/... is BUILD_DIR, the rest of
# <workdir>/ is the repository (anvil, from node_modules).
src_dir=${WORKDIR[$BUILD_STAGE]:-/src}
src_dir=${src_dir%/}
((${#BINARY_SOURCES[@]} > 0)) || error "Dockerfile: no COPY --from=$BUILD_STAGE (no binaries to check)"
# Each binary's DT_NEEDED entries (sanitizer runtimes left out), as "library binary" lines.
needed=()
incomplete=""
for source in "${BINARY_SOURCES[@]}"; do
  relative=${source#"$src_dir"/}
  if [[ $relative =~ ^build/[^/]+/(.+)$ ]]; then
    file=$BUILD_DIR/${BASH_REMATCH[1]}
  else
    file=$REPO_DIR/$relative
  fi
  if [[ ! -f $file ]]; then
    error "$file (copied into an image as $source) is missing: build it first"
    incomplete=1
    continue
  fi
  if ! readelf -h "$file" >/dev/null 2>&1; then
    error "$file (copied into an image as $source) is not an ELF file"
    continue
  fi
  while read -r library; do
    [[ $library =~ $IGNORED_LIBRARIES ]] || needed+=("$library ${file##*/}")
  done < <(readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
done

# Library -> file (ldconfig -p, this machine's architecture) -> package (one dpkg -S for all files). With
# merged /usr, dpkg knows a file under one of /lib and /usr/lib and ldconfig may print the other, so both
# spellings of the path and of its symlink target are asked.
arch_tag=$(uname -m | sed 's/_/-/; s/aarch64/AArch64/')
ldconfig_cache=$(ldconfig -p)
declare -A LIBRARY_PATH=() PATH_PACKAGE=()
candidates=()
for entry in "${needed[@]}"; do
  library=${entry%% *}
  [[ -n ${LIBRARY_PATH[$library]:-} ]] && continue
  path=$(awk -v lib="$library" -v tag="$arch_tag" '$1 == lib && index($0, tag) { print $NF; exit }' \
    <<<"$ldconfig_cache")
  LIBRARY_PATH[$library]=${path:-none}
  [[ -n $path ]] || continue
  real=$(readlink -f "$path")
  candidates+=("$path" "/usr$path" "${path#/usr}" "$real" "/usr$real" "${real#/usr}")
done
if ((${#candidates[@]} > 0)); then
  while IFS=$'\t' read -r package path; do
    PATH_PACKAGE[$path]=$package
  done < <(dpkg -S "${candidates[@]}" 2>/dev/null | awk -F': ' '
    # "pkg[:arch][, pkg2...]: /path"; the first owner is enough.
    NF == 2 && $2 ~ /^\// && $1 !~ /^diversion by/ {
      split($1, owners, ", "); sub(/:.*/, "", owners[1]); print owners[1] "\t" $2
    }')
fi
declare -A NEEDED_BY=()
for entry in "${needed[@]}"; do
  library=${entry%% *} name=${entry#* } path=${LIBRARY_PATH[${entry%% *}]}
  if [[ $path == none ]]; then
    error "$name needs $library, which ldconfig -p does not know: install its package here"
    continue
  fi
  real=$(readlink -f "$path")
  package=""
  for candidate in "$path" "/usr$path" "${path#/usr}" "$real" "/usr$real" "${real#/usr}"; do
    package=${PATH_PACKAGE[$candidate]:-}
    [[ -n $package ]] && break
  done
  if [[ -z $package ]]; then
    error "$name needs $library ($path), which no installed Debian package owns"
    continue
  fi
  [[ ${NEEDED_BY[$package]:-} == *"$name ($library)"* ]] ||
    NEEDED_BY[$package]+="${NEEDED_BY[$package]:+, }$name ($library)"
done

mapfile -t runtime_packages < <(list_packages "$RUNTIME_LIST")
mapfile -t extras < <(extra_packages "$RUNTIME_LIST")
for line in "${extras[@]}"; do
  if [[ $line == ERROR\ * ]]; then error "${line#ERROR }"; fi
done
declare -A EXTRA=() COVERED=()
for pkg in "${extras[@]}"; do EXTRA[$pkg]=1; done

# What apt-get installs for the list: the listed packages and their Depends/Pre-Depends, followed through the
# packages installed here (the build machine has every one of them), one dpkg-query per level.
layer=("${runtime_packages[@]}" "${BASE_PACKAGES[@]}")
while ((${#layer[@]} > 0)); do
  next=()
  for pkg in "${layer[@]}"; do
    [[ -n ${COVERED[$pkg]:-} ]] && continue
    COVERED[$pkg]=1
    next+=("$pkg")
  done
  ((${#next[@]} > 0)) || break
  mapfile -t layer < <(dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "${next[@]}" 2>/dev/null |
    dependency_names | sort -u)
done
for pkg in "${!NEEDED_BY[@]}"; do
  if [[ -z ${COVERED[$pkg]:-} ]]; then
    error "deploy/runtime-packages.txt lacks $pkg, needed by ${NEEDED_BY[$pkg]}"
  fi
done
for pkg in "${runtime_packages[@]}"; do
  # Without every binary, "nothing links it" would be noise on top of the missing files.
  if [[ -z $incomplete && -z ${NEEDED_BY[$pkg]:-} && -z ${EXTRA[$pkg]:-} ]]; then
    error "deploy/runtime-packages.txt lists $pkg, which no shipped binary links; remove it, or mark it" \
      "'# extra: <why>' when a tool in the image needs it"
  fi
  # A name apt knows neither as installed nor as available is a typo or not a bookworm package.
  if ! dpkg-query -W "$pkg" >/dev/null 2>&1 &&
    ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
    error "deploy/runtime-packages.txt lists $pkg, which apt does not know here (not a bookworm package?)"
  fi
done

if ((${#ERRORS[@]} > 0)); then
  printf 'check_packages: %d problem(s) with deploy/Dockerfile and the package lists (build dir %s):\n' \
    "${#ERRORS[@]}" "$BUILD_DIR" >&2
  printf '  - %s\n' "${ERRORS[@]}" >&2
  exit 1
fi
printf 'check_packages: OK: build stage = debian-packages.txt + %s; runtime stage = runtime-packages.txt;\n' \
  "${BUILD_EXTRAS[*]}"
printf '  %d binaries from %s link libraries of %d packages, all in the runtime image\n' \
  "${#BINARY_SOURCES[@]}" "$BUILD_DIR" "${#NEEDED_BY[@]}"
