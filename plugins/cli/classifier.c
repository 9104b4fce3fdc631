/* classifier.c: the one place where "darknet classifier ..." does not go straight to the
 * system binary. Darknet's own classifier does not know policy=fge_cyclic or policy=sgdr: it
 * would say "going with constant" once and train at a constant learning rate. So when
 * "classifier train" is given a cfg with one of our policies, the run goes through our loop
 * ("darknet train", which reads the same .data keys for image lists: classes, train, valid,
 * labels, backup) with a note on stderr; every other classifier command passes through. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

/* (cli.h) */
int cli_net_policy(const char *cfg, char *out, size_t n) {
    FILE *fp = fopen(cfg, "r");
    if (!fp) return -1;
    char line[4096];
    int in_net = 0;
    out[0] = 0;
    while (fgets(line, sizeof line, fp)) {
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        if (*s == '[') {
            if (in_net) break;
            in_net = !strncmp(s, "[net]", 5) || !strncmp(s, "[network]", 9);
            continue;
        }
        if (!in_net || strncmp(s, "policy", 6)) continue;
        char *eq = strchr(s, '=');
        if (!eq) continue;
        char *k = s + 6;
        while (k < eq && isspace((unsigned char)*k)) k++;
        if (k != eq) continue;
        char *v = eq + 1;
        while (isspace((unsigned char)*v)) v++;
        size_t l = strcspn(v, " \t\r\n#");
        snprintf(out, n, "%.*s", (int)l, v);
    }
    fclose(fp);
    return 0;
}

int cli_classifier_intercept(int argc, char **argv) {
    /* argv: classifier train <data> <cfg> [weights] [Darknet's flags] */
    if (argc < 4 || strcmp(argv[1], "train")) return -1;
    char policy[64];
    if (cli_net_policy(argv[3], policy, sizeof policy) || (strcmp(policy, "fge_cyclic") && strcmp(policy, "sgdr"))) return -1;
    char *args[64];
    int n = 0, dropped = 0;
    args[n++] = "train";
    for (int i = 2; i < argc && n < 63; i++) {
        if (!strcmp(argv[i], "-gpus") || !strcmp(argv[i], "-gpu") || !strcmp(argv[i], "-i")) { i++; dropped = 1; continue; }
        if (!strcmp(argv[i], "-clear") || !strcmp(argv[i], "-nogpu")) { dropped = 1; continue; }
        args[n++] = argv[i];
    }
    args[n] = NULL;
    static char note[2048];   /* printed when the run starts, so that a refused cfg gets one line */
    snprintf(note, sizeof note, "darknet classifier train: %s has policy=%s, which Darknet's classifier does not know (it would "
             "train at a constant rate); training with 'darknet train' instead%s",
             argv[3], policy, dropped ? " (on the CPU; -gpus/-clear ignored)" : "");
    cli_train_note = note;
    return cmd_train(n, args);
}
