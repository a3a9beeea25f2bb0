# Scores event lines of the attribution benchmark: each file name says who touched it.
#   w<NN>.<j>  aw<NN>, root for even NN, nobody for odd NN   (workers load)
#   s<i>       sh as root                                    (commands load)
#   c<i>       cat as nobody                                 (commands load)
# Input: "COMM(PID) [USER]: TYPES PATH" (iotrace -u) or "COMM(PID): TYPES PATH" (no user:
# then only the command is judged). Prints, per load: lines right unknown wrong files.
# Set -v dir=MOUNT.
function judge(load, comm, user, want_comm, want_user) {
    lines[load]++
    if (comm == "unknown" || user == "?") unknown[load]++
    else if (comm == want_comm && (user == "" || user == want_user)) right[load]++
    else { wrong[load]++; if (wrong_shown++ < 5) print "wrong: " $0 > "/dev/stderr" }
}
{
    # COMM(PID) is the first field; the user, when present, the second
    if (!match($1, /\([0-9]+\)(:)?$/)) next
    comm = substr($1, 1, RSTART - 1)
    user = ""
    if ($2 ~ /^\[.*\]:$/) { user = substr($2, 2, length($2) - 3) }
    path = $NF
    if (index(path, dir "/") != 1) next
    base = substr(path, length(dir) + 2)
    if (base ~ /^w[0-9][0-9]\.[0-9]+$/) {
        nn = substr(base, 2, 2) + 0
        judge("workers", comm, user, sprintf("aw%02d", nn), nn % 2 ? "nobody" : "root")
        files["workers", base] = 1
    } else if (base ~ /^s[0-9]+$/) {
        judge("commands", comm, user, "sh", "root")
        files["commands", base] = 1
    } else if (base ~ /^c[0-9]+$/) {
        judge("commands", comm, user, "cat", "nobody")
        files["commands", base] = 1
    }
}
END {
    for (k in files) { split(k, part, SUBSEP); nfiles[part[1]]++ }
    split("workers commands", loads, " ")
    for (i = 1; i <= 2; i++) {
        l = loads[i]
        printf "%s %d %d %d %d %d\n", l, lines[l], right[l], unknown[l], wrong[l], nfiles[l]
    }
}
