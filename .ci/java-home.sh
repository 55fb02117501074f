# shellcheck shell=bash
# Sourced by ./sluice and .ci/run. Defines sluice_select_java, which exports JAVA_HOME pointing at
# a JDK 21 or newer: $JAVA_HOME if it is one, else the newest under /usr/lib/jvm, else the JDK
# of the `java` on PATH; fails with a message naming what it found otherwise.

SLUICE_MIN_JAVA=21

# Prints the feature version (8, 17, 21, 25, ...) of the JDK at $1, or nothing if it is not a JDK.
sluice_java_major() {
    local home=$1 spec
    [[ -x $home/bin/java && -x $home/bin/javac ]] || return 0
    spec=$("$home/bin/java" -XshowSettings:properties -version 2>&1 \
        | awk -F' = ' '/java\.specification\.version/ { print $2; exit }') || return 0
    spec=${spec#1.}          # 1.8 -> 8
    spec=${spec%%.*}
    [[ $spec =~ ^[0-9]+$ ]] && echo "$spec"
    return 0
}

sluice_select_java() {
    local major best="" best_major=0 candidate seen=""
    if [[ -n ${JAVA_HOME:-} ]]; then
        major=$(sluice_java_major "$JAVA_HOME")
        if [[ -n $major && $major -ge $SLUICE_MIN_JAVA ]]; then
            export JAVA_HOME
            return 0
        fi
        seen="JAVA_HOME=$JAVA_HOME (${major:-not a JDK}); "
    fi
    for candidate in /usr/lib/jvm/*; do
        [[ -d $candidate ]] || continue
        major=$(sluice_java_major "$candidate")
        [[ -n $major ]] || continue
        seen+="$candidate ($major); "
        if (( major >= SLUICE_MIN_JAVA && major > best_major )); then
            best=$candidate
            best_major=$major
        fi
    done
    if [[ -z $best ]] && command -v java >/dev/null 2>&1; then
        candidate=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        major=$(sluice_java_major "$candidate")
        seen+="java on PATH: $candidate (${major:-not a JDK}); "
        if [[ -n $major && $major -ge $SLUICE_MIN_JAVA ]]; then
            best=$candidate
        fi
    fi
    if [[ -z $best ]]; then
        echo "sluice: needs a JDK $SLUICE_MIN_JAVA or newer (java and javac); found: ${seen:-none}." \
             "Install one (e.g. apt-get install openjdk-21-jdk-headless) or set JAVA_HOME." >&2
        return 1
    fi
    export JAVA_HOME=$best
}

# Prints the JVM options Sluice runs with (one per line), for the JDK at $JAVA_HOME:
# - Netty's fastest buffer paths use sun.misc.Unsafe and its native transports load a library;
#   newer JDKs want both allowed explicitly (older ones reject the flags).
# - The garbage collector, unless SLUICE_JAVA_OPTS names one: a proxy's heap is small and nearly
#   all its garbage dies young, so the collector's cost is mostly the barriers on every reference
#   store and the threads that compete with the event loops for CPU. On up to 4 cores Serial has
#   the cheapest of both (measured side by side: bench/README.md); on more, Parallel collects the
#   young generation on every core.
sluice_jvm_opts() {
    local major
    major=$(sluice_java_major "$JAVA_HOME")
    echo "-Dio.netty.noUnsafe=false"
    (( major >= 22 )) && echo "--enable-native-access=ALL-UNNAMED"
    (( major >= 24 )) && echo "--sun-misc-unsafe-memory-access=allow"
    if [[ ${SLUICE_JAVA_OPTS:-} != *-XX:+Use*GC* ]]; then
        if (( $(nproc 2>/dev/null || echo 1) <= 4 )); then
            echo "-XX:+UseSerialGC"
        else
            echo "-XX:+UseParallelGC"
        fi
    fi
    return 0
}
