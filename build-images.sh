#!/usr/bin/env bash
# Builds the model-server images in images/ the way `cd images && npmci docker build` does:
#   - every images/Dockerfile* file is one image;
#   - its tag comes from npmci's regex Dockerfile_([a-zA-Z0-9.]*)$, and "latest" when that does
#     not match, so images/Dockerfile_nanonetsocrs.vllm.gpu.vram13gb becomes
#     ${IMAGE_REPO}:nanonetsocrs.vllm.gpu.vram13gb;
#   - the build context is images/, with --label version=<package version>;
#   - a Dockerfile whose FROM names another image built here is built after that image.
# npmci names the repository <user>/<repo> of the git remote; IMAGE_REPO (default "dualread")
# plays that part here, so IMAGE_REPO=<user>/<repo> gives exactly npmci's names.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
images_dir="${IMAGES_DIR:-$script_dir/images}"
version_file="$script_dir/dualread/__init__.py"
image_repo="${IMAGE_REPO:-dualread}"

usage() {
    cat <<EOF
Usage: $(basename "$0") [--only TAG]... [--registry HOST] [--push] [--network MODE]
                        [--build-arg KEY=VALUE]... [--dry-run]

Builds every $images_dir/Dockerfile* into $image_repo:<tag>, labelled with the package
version (dualread/__init__.py), in npmci's order (local base images first).

  --only TAG        build only this tag (repeatable); its local base image must already exist
  --registry HOST   also tag each image HOST/$image_repo:<tag>
  --push            push the built tags (HOST/... with --registry, else $image_repo:<tag>)
  --network MODE    network for RUN steps (docker build --network), e.g. host
  --build-arg K=V   passed to every build (repeatable), e.g. VLLM_IMAGE=<a CUDA 12 vLLM build>
  --dry-run         print the docker commands instead of running them
  -h, --help        this help

Environment: IMAGE_REPO (default dualread; set <user>/<repo> to match npmci's names),
IMAGES_DIR (default images/ next to this script).
EOF
}

die() {
    echo "build-images: $*" >&2
    exit 1
}

only=()
registry=""
push=false
network=""
build_args=()
dry_run=false
while (($#)); do
    case "$1" in
        --only) (($# >= 2)) || die "--only needs a TAG"; only+=("$2"); shift 2 ;;
        --registry) (($# >= 2)) || die "--registry needs a HOST"; registry="${2%/}"; shift 2 ;;
        --push) push=true; shift ;;
        --network) (($# >= 2)) || die "--network needs a MODE"; network="$2"; shift 2 ;;
        --build-arg) (($# >= 2)) || die "--build-arg needs KEY=VALUE"; build_args+=(--build-arg "$2"); shift 2 ;;
        --dry-run) dry_run=true; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

# npmci's tag rule, applied to a Dockerfile's name.
tag_of() {
    if [[ $1 =~ Dockerfile_([a-zA-Z0-9.]*)$ ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    else
        printf 'latest\n'
    fi
}

# Every image a Dockerfile builds FROM, one per line (a stage's --platform flag skipped).
bases_of() {
    awk 'toupper($1) == "FROM" { name = ($2 ~ /^--platform=/) ? $3 : $2; print name }' "$1"
}

# The package version: __version__ in dualread/__init__.py (pyproject.toml takes it from there).
package_version() {
    awk -F'"' '/^__version__ = "/ { print $2; exit }' "$version_file"
}

run() {
    if $dry_run; then
        printf '%q ' "$@"
        printf '\n'
    else
        "$@"
    fi
}

[[ -d $images_dir ]] || die "no images folder at $images_dir"
version="$(package_version)"
[[ -n $version ]] || die "no __version__ in $version_file"

# Discover the Dockerfiles and their tags; two files with one tag would overwrite each other.
declare -A file_of_tag=()
tags=()
while IFS= read -r file; do
    tag="$(tag_of "$(basename "$file")")"
    [[ -n $tag ]] || die "$file gives an empty tag; name it Dockerfile_<tag>"
    if [[ -n ${file_of_tag[$tag]:-} ]]; then
        die "$file and ${file_of_tag[$tag]} both give the tag '$tag' (npmci's rule allows only [a-zA-Z0-9.] after 'Dockerfile_')"
    fi
    file_of_tag[$tag]="$file"
    tags+=("$tag")
done < <(find "$images_dir" -maxdepth 1 -type f -name 'Dockerfile*' | LC_ALL=C sort)
((${#tags[@]})) || die "no Dockerfile* in $images_dir"

for tag in "${only[@]}"; do
    [[ -n ${file_of_tag[$tag]:-} ]] || die "--only $tag: no such tag (known: ${tags[*]})"
done

# npmci's ordering: repeated passes over the files in name order; a file is taken once none of
# the images it builds FROM is a local image still waiting to be built.
declare -A done_tags=()
ordered=()
while ((${#ordered[@]} < ${#tags[@]})); do
    progressed=false
    for tag in "${tags[@]}"; do
        [[ -z ${done_tags[$tag]:-} ]] || continue
        waiting=false
        while IFS= read -r base; do
            for other in "${tags[@]}"; do
                if [[ $base == "$image_repo:$other" && -z ${done_tags[$other]:-} ]]; then
                    waiting=true
                fi
            done
        done < <(bases_of "${file_of_tag[$tag]}")
        if ! $waiting; then
            ordered+=("$tag")
            done_tags[$tag]=1
            progressed=true
        fi
    done
    $progressed || die "the Dockerfiles build FROM each other in a cycle"
done

if ! $dry_run && ! command -v docker >/dev/null 2>&1; then
    die "docker not found: install Docker (https://docs.docker.com/engine/install/) or use --dry-run"
fi

built=()
for tag in "${ordered[@]}"; do
    if ((${#only[@]})) && [[ " ${only[*]} " != *" $tag "* ]]; then
        continue
    fi
    file="${file_of_tag[$tag]}"
    name="$image_repo:$tag"
    echo "==> building $name from ${file#"$script_dir"/} (version $version)"
    build=(docker build --label "version=$version" --tag "$name" --file "$file")
    [[ -z $network ]] || build+=(--network "$network")
    build+=("${build_args[@]}")
    run "${build[@]}" "$images_dir" || die "building $name from $file failed"
    pushed_name="$name"
    if [[ -n $registry ]]; then
        pushed_name="$registry/$name"
        run docker tag "$name" "$pushed_name" || die "tagging $pushed_name failed"
    fi
    if $push; then
        echo "==> pushing $pushed_name"
        run docker push "$pushed_name" || die "pushing $pushed_name failed"
    fi
    built+=("$pushed_name")
done
if $dry_run; then
    echo "build-images: dry run, would build: ${built[*]}"
else
    echo "build-images: built: ${built[*]}"
fi
