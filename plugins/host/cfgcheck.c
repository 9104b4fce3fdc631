/* cfgcheck.c: our own pass over a cfg's text before Darknet's parser sees it. The parser
 * exits, aborts or crashes on some malformed cfgs, and silently builds a different network
 * on others (an unknown activation becomes ReLU; a key it does not read is dropped with a
 * warning nobody sees). This pass turns each of those into a one-line error naming the file,
 * the line and the key, before anything is built.
 *
 * The host's tables (host__cfg, host_cfgcheck.h: pjreddie's in host/cfgkeys.c, AlexeyAB's in
 * host_alexeyab/cfgkeys.c) list, per section type, the keys this Darknet's parser reads, plus
 * the keys every layer section reads, the [net] keys and those of our own schedules, the
 * activation names get_activation() knows, and the keys that name earlier layers. Keys the
 * parser reads only under a condition (B1/B2/eps with
 * adam=1, step/scale with policy=step, ...) count as read only then. Env DKMC_ALLOW_UNUSED=1
 * turns the unused-key / unknown-activation report off (the run then trains what Darknet
 * builds); the structural checks (sections, policy keys, route/shortcut indices, recurrent
 * layers on pjreddie's host: [rnn], [lstm] and [gru] are refused, [crnn] is accepted only when
 * linear without BN) always apply, because Darknet would crash on them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "host_cfgcheck.h"

#define SPECS host__cfg.sections
#define NSPECS host__cfg.nsections
#define COMMON_KEYS host__cfg.common_keys
#define ACTIVATIONS host__cfg.activations
typedef host_cfg_section sec_spec;
static const char *POLICIES = " random poly constant step exp sigmoid steps fge_cyclic sgdr ";

static int in_list(const char *list, const char *word) {
    size_t n = strlen(word);
    if (!n || strchr(word, ' ')) return 0;
    for (const char *p = list; (p = strstr(p, word)); p++)
        if (p > list && p[-1] == ' ' && p[n] == ' ') return 1;
    return 0;
}

/* One option as the parser sees it: read_cfg strips all whitespace from each line. */
typedef struct { char key[128]; char val[1024]; int line; } opt;
typedef struct { int spec; int line; char name[40]; opt *opts; int nopts, cap; } sect;

static void free_sects(sect *s, int n) {
    for (int i = 0; i < n; i++) free(s[i].opts);
    free(s);
}
static const char *find(const sect *s, const char *key) {
    for (int i = 0; i < s->nopts; i++) if (!strcmp(s->opts[i].key, key)) return s->opts[i].val;
    return NULL;
}
static int ival(const sect *s, const char *key, int def) { const char *v = find(s, key); return v ? atoi(v) : def; }
static int count_items(const char *v) {
    int n = 1;
    for (; *v; v++) n += *v == ',';
    return n;
}

/* [net] keys: what parse_net_options reads (some only under a condition), and ours. */
static int net_key_read(const sect *net, const char *key) {
    if (in_list(host__cfg.net_keys, key)) return 1;
    const char *adam = find(net, "adam"), *pol = find(net, "policy");
    if (!pol) pol = "constant";
    if (in_list(" B1 B2 eps ", key)) return adam && atoi(adam);
    if (!strcmp(key, "step")) return !strcmp(pol, "step") || !strcmp(pol, "sigmoid");
    if (!strcmp(key, "scale")) return !strcmp(pol, "step");
    if (in_list(host__cfg.steps_keys, key)) return !strcmp(pol, "steps");
    if (!strcmp(key, "gamma")) return !strcmp(pol, "exp") || !strcmp(pol, "sigmoid");
    return 0;
}

/* Read the file into sections; structural errors (unknown section, no [net] first, ...). */
static int read_sections(const char *path, sect **out, int *nout, char *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) { snprintf(err, DKMC_ERRLEN, "%s: cannot open cfg: %s", path, strerror(errno)); return -1; }
    char line[8192];
    int lineno = 0, n = 0, cap = 0, rc = 0;
    sect *s = NULL;
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        /* as read_cfg: drop every whitespace character */
        char *w = line;
        for (char *r = line; *r; r++) if (!isspace((unsigned char)*r)) *w++ = *r;
        *w = 0;
        if (!line[0] || line[0] == '#' || line[0] == ';') continue;
        if (line[0] == '[') {
            for (char *p = line; *p; p++) *p = (char)tolower((unsigned char)*p);
            char pad[64];
            snprintf(pad, sizeof pad, " %.40s ", line);
            int spec = -1;
            for (int i = 0; i < NSPECS; i++) if (strstr(SPECS[i].names, pad)) spec = i;
            if (spec < 0) { snprintf(err, DKMC_ERRLEN, "%s:%d: unknown section %s", path, lineno, line); rc = -1; break; }
            if (n == 0 && spec != 0) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: the first section must be [net], found %s", path, lineno, line);
                rc = -1; break;
            }
            if (n > 0 && spec == 0) { snprintf(err, DKMC_ERRLEN, "%s:%d: a second [net] section", path, lineno); rc = -1; break; }
            if (n == cap) {
                cap = cap ? 2 * cap : 32;
                sect *t = realloc(s, cap * sizeof *s);
                if (!t) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", path); rc = -1; break; }
                s = t;
            }
            memset(&s[n], 0, sizeof s[n]);
            s[n].spec = spec; s[n].line = lineno;
            snprintf(s[n].name, sizeof s[n].name, "%s", line);
            n++;
        } else {
            if (n == 0) { snprintf(err, DKMC_ERRLEN, "%s:%d: option before the [net] section", path, lineno); rc = -1; break; }
            char *eq = strchr(line, '=');
            if (!eq) { snprintf(err, DKMC_ERRLEN, "%s:%d: expected key=value, found '%s'", path, lineno, line); rc = -1; break; }
            *eq = 0;
            sect *c = &s[n - 1];
            if (c->nopts == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 16;
                opt *t = realloc(c->opts, c->cap * sizeof *t);
                if (!t) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", path); rc = -1; break; }
                c->opts = t;
            }
            opt *o = &c->opts[c->nopts++];
            snprintf(o->key, sizeof o->key, "%s", line);
            snprintf(o->val, sizeof o->val, "%s", eq + 1);
            o->line = lineno;
        }
    }
    fclose(fp);
    if (!rc && n == 0) { snprintf(err, DKMC_ERRLEN, "%s: empty cfg (no [net] section)", path); rc = -1; }
    if (!rc && n == 1) { snprintf(err, DKMC_ERRLEN, "%s: the cfg has no layers", path); rc = -1; }
    if (rc) { free_sects(s, n); return -1; }
    *out = s; *nout = n;
    return 0;
}

/* Every key the parser would not read and every activation it does not know, in one line:
 * the first few with file:line, then a count. */
static int check_unused(const char *path, const sect *s, int n, char *err) {
    char list[DKMC_ERRLEN] = "";
    int count = 0, first_line = 0;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const sec_spec *sp = &SPECS[s[i].spec];
        if (i > 0 && !sp->keys) continue;
        for (int j = 0; j < s[i].nopts; j++) {
            const opt *o = &s[i].opts[j];
            char what[400];
            if (i == 0 ? !net_key_read(&s[0], o->key)
                       : !(in_list(sp->keys, o->key) || in_list(COMMON_KEYS, o->key) ||
                           (sp->activation && !strcmp(o->key, "activation"))))
                snprintf(what, sizeof what, "%s %s=%s is not read by this Darknet", s[i].name, o->key, o->val);
            else if (i > 0 && !strcmp(o->key, "activation") && !in_list(ACTIVATIONS, o->val))
                snprintf(what, sizeof what, "%s activation=%s is unknown to this Darknet (it would use relu)", s[i].name, o->val);
            else continue;
            if (!count) first_line = o->line;
            count++;
            if (count <= 4) {
                int w = count == 1 ? snprintf(list + len, sizeof list - len, "%s", what)
                                   : snprintf(list + len, sizeof list - len, "; line %d: %s", o->line, what);
                if (w > 0) len += (size_t)w < sizeof list - len ? (size_t)w : sizeof list - len - 1;
            }
        }
    }
    if (!count) return 0;
    char more[64] = "";
    if (count > 4) snprintf(more, sizeof more, "; and %d more", count - 4);
    snprintf(err, DKMC_ERRLEN, "%s:%d: %s%s (DKMC_ALLOW_UNUSED=1 trains what Darknet builds instead)",
             path, first_line, list, more);
    return -1;
}

static int opt_line(const sect *s, const char *key) {
    for (int i = 0; i < s->nopts; i++) if (!strcmp(s->opts[i].key, key)) return s->opts[i].line;
    return s->line;
}

/* Parse a comma list of layer indices as the parser does (relative if negative) and check
 * each names an earlier layer. The parsers atoi() each item, so an item may end in a comment
 * ("layers = -1, 271 ###S4" in AlexeyAB's cspx-p7-mish.cfg reads -1 and 271). */
static int check_indices(const char *path, const sect *s, int layer, const char *key, int single, char *err) {
    const char *v = find(s, key);
    if (!v || !*v) {
        snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s needs %s= (the layer%s it takes its input from)",
                 path, s->line, layer, s->name, key, single ? "" : "s");
        return -1;
    }
    if (single && strchr(v, ',')) {
        snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s %s=%s: this Darknet takes one layer here", path, opt_line(s, key), layer, s->name, key, v);
        return -1;
    }
    for (const char *p = v; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        char *end;
        long idx = strtol(p, &end, 10);
        if (end == p || (*end && *end != ',' && *end != '#')) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s %s=%s: not a list of layer indices", path, opt_line(s, key), layer, s->name, key, v);
            return -1;
        }
        long abs = idx < 0 ? layer + idx : idx;
        if (abs < 0 || abs >= layer) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s %s=%s: layer %ld is not an earlier layer",
                     path, opt_line(s, key), layer, s->name, key, v, abs);
            return -1;
        }
    }
    return 0;
}

/* Checks Darknet would answer with exit/abort/segfault (or a silent fallback). */
static int check_structure(const char *path, const sect *s, int n, char *err) {
    const sect *net = &s[0];
    const char *pol = find(net, "policy");
    if (pol && !in_list(POLICIES, pol)) {
        snprintf(err, DKMC_ERRLEN, "%s:%d: [net] policy=%s is not a policy this Darknet or this tool knows "
                 "(random, poly, constant, step, exp, sigmoid, steps, fge_cyclic, sgdr)", path, opt_line(net, "policy"), pol);
        return -1;
    }
    if (pol && !strcmp(pol, "steps")) {
        const char *st = find(net, "steps"), *sc = find(net, "scales");
        if (!st || !sc || !*st || !*sc) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: [net] policy=steps needs both steps= and scales=", path, opt_line(net, "policy"));
            return -1;
        }
        if (count_items(st) != count_items(sc)) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: [net] steps= has %d entries and scales= %d; they must pair up",
                     path, opt_line(net, "scales"), count_items(st), count_items(sc));
            return -1;
        }
    }
    const char *b = find(net, "batch"), *sd = find(net, "subdivisions");
    int batch = b ? atoi(b) : 1, subd = sd ? atoi(sd) : 1;
    if (batch < 1 || subd < 1 || batch / subd < 1) {
        snprintf(err, DKMC_ERRLEN, "%s:%d: [net] batch=%d with subdivisions=%d leaves no image per step",
                 path, opt_line(net, b ? "batch" : "subdivisions"), batch, subd);
        return -1;
    }
    const char *wv = find(net, "width"), *hv = find(net, "height"), *cv = find(net, "channels"), *iv = find(net, "inputs");
    int image = wv && hv && cv && atoi(wv) > 0 && atoi(hv) > 0 && atoi(cv) > 0;
    if (!image && !(iv && atoi(iv) > 0)) {
        snprintf(err, DKMC_ERRLEN, "%s:%d: [net] needs width=, height= and channels= (or inputs=)", path, net->line);
        return -1;
    }
    for (int i = 1; i < n; i++) {
        const sect *l = &s[i];
        int layer = i - 1;
        const char *nm = l->name;
        for (int k = 0; k < host__cfg.nindices; k++)
            if (!strcmp(nm, host__cfg.indices[k].section) &&
                check_indices(path, l, layer, host__cfg.indices[k].key, !host__cfg.indices[k].list, err)) return -1;
        if (host__cfg.unsupported && in_list(host__cfg.unsupported, nm)) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s is not supported on this host: %s", path, l->line, layer, nm,
                     host__cfg.unsupported_why);
            return -1;
        }
        if (host__cfg.refuse_recurrent && (!strcmp(nm, "[rnn]") || !strcmp(nm, "[lstm]") || !strcmp(nm, "[gru]"))) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s is not supported: this Darknet's CPU %s", path, l->line, layer, nm,
                     !strcmp(nm, "[rnn]") ? "[rnn] corrupts the heap when it trains" :
                     !strcmp(nm, "[lstm]") ? "[lstm] never allocates its delta and crashes when it trains" :
                     "[gru] has no backward pass (backward_gru_layer is empty: its weights would never train)");
            return -1;
        }
        if (!strcmp(nm, "[softmax]") || !strcmp(nm, "[soft]")) {
            const char *tree = find(l, "tree"), *groups = find(l, "groups");
            if (tree) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s tree=%s: a hierarchical softmax is not supported "
                         "(flat class lists only; Darknet's parser also crashes when the tree file is missing)",
                         path, opt_line(l, "tree"), layer, nm, tree);
                return -1;
            }
            if (groups && atoi(groups) != 1) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d %s groups=%s: a grouped softmax is not supported (one distribution over the classes only)",
                         path, opt_line(l, "groups"), layer, nm, groups);
                return -1;
            }
        }
        if (host__cfg.refuse_recurrent && !strcmp(nm, "[crnn]")) {
            /* its backward hands the input convolution the self convolution's delta after
             * that layer's activation gradient and BN backward changed it in place: right only
             * for a linear activation without BN (finite differences agree then) */
            const char *act = find(l, "activation"), *bn = find(l, "batch_normalize"), *ts = find(net, "time_steps");
            if (ts && atoi(ts) != 1) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d [crnn] with time_steps=%s: sequences are not supported (one image per "
                         "row, time_steps=1)", path, l->line, layer, ts);
                return -1;
            }
            if (!act || strcmp(act, "linear") || (bn && atoi(bn))) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d [crnn] is supported only with activation=linear and no batch_normalize: "
                         "this Darknet's CPU backward gives a wrong gradient otherwise", path, l->line, layer);
                return -1;
            }
        }
        if (!strcmp(nm, "[crop]") && layer == 0 && image) {
            /* the crop layer picks a random offset in [0, input - crop): a crop larger than
             * the image reads outside it (a NaN loss at the first step, or a crash) */
            int ch = ival(l, "crop_height", 1), cw = ival(l, "crop_width", 1);
            if (ch > atoi(hv) || cw > atoi(wv) || ch < 1 || cw < 1) {
                snprintf(err, DKMC_ERRLEN, "%s:%d: layer 0 [crop] crop_height=%d crop_width=%d: not inside the %dx%d input "
                         "([net] height= and width=)", path, l->line, ch, cw, atoi(hv), atoi(wv));
                return -1;
            }
        }
        if (!strcmp(nm, "[yolo]") && find(l, "mask")) {
            /* the parser keeps num= anchors (biases) and indexes them by the mask's items
             * unchecked: an item >= num reads outside them (AlexeyAB's cspx-p7-mish.cfg, num=16
             * with mask=16,17,18,19: a heap overflow, then "double free or corruption" or a
             * non-finite weight); the items end at a '#' (AlexeyAB's parse_yolo_mask) */
            char buf[512];
            snprintf(buf, sizeof buf, "%s", find(l, "mask"));
            buf[strcspn(buf, "#")] = 0;
            int num = ival(l, "num", 1);
            for (const char *p = buf; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
                long m = strtol(p, NULL, 10);
                if (m < 0 || m >= num) {
                    snprintf(err, DKMC_ERRLEN, "%s:%d: layer %d [yolo] mask=%s: anchor %ld is not one of its num=%d anchors "
                             "(the parser would read it from outside them: a crash or a NaN)", path, opt_line(l, "mask"), layer,
                             find(l, "mask"), m, num);
                    return -1;
                }
            }
        }
        if ((!strcmp(nm, "[dropout]") || !strcmp(nm, "[shortcut]")) && layer == 0) {
            snprintf(err, DKMC_ERRLEN, "%s:%d: layer 0 %s needs a layer before it", path, l->line, nm);
            return -1;
        }
    }
    return 0;
}

/* A lower bound of the memory Darknet's parser will allocate for this cfg, checked before it
 * runs: a network larger than the machine would otherwise be built page by page (minutes of
 * zeroing) and then end in an OOM kill instead of an error. The walk follows the layer shapes
 * the parser computes for the common layers (conv, deconv, local, connected, pooling, route,
 * shortcut, upsample, reorg, crop and the shape-preserving ones) and stops at any other layer,
 * so what it counts is always less than what the parser allocates: every layer's output and
 * delta (batch x outputs floats each), every weight array twice (values and updates), and the
 * largest im2col workspace. Env DKMC_MEMORY_BYTES replaces the machine's physical memory
 * (tests). */

static const char *human_bytes(double v, char *buf) {
    const char *unit[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    while (v >= 1024 && u < 5) { v /= 1024; u++; }
    snprintf(buf, 32, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
    return buf;
}

static int check_memory(const char *path, const sect *s, int n, char *err) {
    const sect *net = &s[0];
    int subd = ival(net, "subdivisions", 1);
    double batch = (double)ival(net, "batch", 1) / (subd > 0 ? subd : 1);
    int w = ival(net, "width", 0), h = ival(net, "height", 0), c = ival(net, "channels", 0);
    if (w <= 0 || h <= 0 || c <= 0) { w = 1; h = 1; c = ival(net, "inputs", 1); }
    double floats = batch * w * h * c, work = 0, big = 0;
    int big_layer = -1;
    int *ow = malloc((size_t)n * 3 * sizeof(int));
    if (!ow) { snprintf(err, DKMC_ERRLEN, "%s: out of memory", path); return -1; }
    for (int i = 1; i < n; i++) {
        const sect *l = &s[i];
        const char *nm = l->name;
        int layer = i - 1, nw = 0;
        double weights = 0, ws = 0;
        if (!strcmp(nm, "[convolutional]") || !strcmp(nm, "[conv]") || !strcmp(nm, "[local]")) {
            int size = ival(l, "size", 1), stride = ival(l, "stride", 1), f = ival(l, "filters", 1);
            int pad = ival(l, "padding", 0);
            if (ival(l, "pad", 0)) pad = size / 2;
            int groups = strcmp(nm, "[local]") ? ival(l, "groups", 1) : 1;
            if (stride < 1 || groups < 1) break;
            nw = (w + 2 * pad - size) / stride + 1;
            int nh = (h + 2 * pad - size) / stride + 1;
            weights = (double)c / groups * f * size * size * (strcmp(nm, "[local]") ? 1 : (double)nw * nh);
            ws = (double)nw * nh * size * size * c / groups;
            w = nw; h = nh; c = f;
        } else if (!strcmp(nm, "[deconvolutional]") || !strcmp(nm, "[deconv]")) {
            int size = ival(l, "size", 1), stride = ival(l, "stride", 1), f = ival(l, "filters", 1);
            int pad = ival(l, "padding", 0);
            if (ival(l, "pad", 0)) pad = size / 2;
            weights = (double)c * f * size * size;
            ws = (double)w * h * size * size * f;
            w = (w - 1) * stride + size - 2 * pad; h = (h - 1) * stride + size - 2 * pad; c = f;
        } else if (!strcmp(nm, "[connected]") || !strcmp(nm, "[conn]")) {
            int out = ival(l, "output", 1);
            weights = (double)w * h * c * out;
            w = 1; h = 1; c = out;
        } else if (!strcmp(nm, "[maxpool]") || !strcmp(nm, "[max]")) {
            int stride = ival(l, "stride", 1), size = ival(l, "size", stride), pad = ival(l, "padding", size - 1);
            if (stride < 1) break;
            w = (w + pad - size) / stride + 1; h = (h + pad - size) / stride + 1;
        } else if (!strcmp(nm, "[avgpool]") || !strcmp(nm, "[avg]")) {
            w = 1; h = 1;
        } else if (!strcmp(nm, "[upsample]")) {
            int st = ival(l, "stride", 2);
            if (st < 0) { st = -st; if (!st) break; w /= st; h /= st; } else { w *= st; h *= st; }
        } else if (!strcmp(nm, "[reorg]")) {
            int st = ival(l, "stride", 1);
            if (st < 1) break;
            if (ival(l, "reverse", 0)) { w *= st; h *= st; c /= st * st; } else { w /= st; h /= st; c *= st * st; }
        } else if (!strcmp(nm, "[crop]")) {
            w = ival(l, "crop_width", 1); h = ival(l, "crop_height", 1);
        } else if (!strcmp(nm, "[route]")) {
            const char *v = find(l, "layers");
            int cc = 0, first = 1, okr = v != NULL;
            for (const char *p = v; okr && p && *p; ) {
                int idx = atoi(p);
                if (idx < 0) idx += layer;
                if (idx < 0 || idx >= layer) { okr = 0; break; }
                if (first) { w = ow[3 * idx]; h = ow[3 * idx + 1]; first = 0; }
                cc += ow[3 * idx + 2];
                p = strchr(p, ',');
                if (p) p++;
            }
            if (!okr) break;
            c = cc;
        } else if (strcmp(nm, "[shortcut]") && strcmp(nm, "[dropout]") && strcmp(nm, "[softmax]") && strcmp(nm, "[soft]")
                   && strcmp(nm, "[activation]") && strcmp(nm, "[normalization]") && strcmp(nm, "[lrn]")
                   && strcmp(nm, "[cost]") && strcmp(nm, "[logistic]") && strcmp(nm, "[l2norm]") && strcmp(nm, "[batchnorm]")) {
            break;   /* a layer whose shape this walk does not follow: count no further */
        }
        if (w < 1 || h < 1 || c < 1) break;
        ow[3 * layer] = w; ow[3 * layer + 1] = h; ow[3 * layer + 2] = c;
        double here = 2 * batch * w * h * c + 2 * weights;
        floats += here;
        if (ws > work) work = ws;
        if (here > big) { big = here; big_layer = layer; }
    }
    free(ow);
    floats += work;
    double have;
    const char *env = getenv("DKMC_MEMORY_BYTES");
    if (env && *env) have = strtod(env, NULL);
    else have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGE_SIZE);
    double need = floats * sizeof(float);
    if (have > 0 && need > have) {
        char a[32], b[32], c2[32];
        snprintf(err, DKMC_ERRLEN, "%s: the network needs more memory than this machine has: at least %s "
                 "(batch %g; layer %d alone %s), the machine has %s; lower batch=, the input size or filters=",
                 path, human_bytes(need, a), batch, big_layer, human_bytes(big * sizeof(float), b), human_bytes(have, c2));
        return -1;
    }
    return 0;
}

int host__validate_cfg(const char *path, host_cfg_info *info, char *err) {
    sect *s; int n;
    if (read_sections(path, &s, &n, err)) return -1;
    int rc = check_structure(path, s, n, err);
    const char *allow = getenv("DKMC_ALLOW_UNUSED");
    if (!rc && !(allow && *allow && strcmp(allow, "0"))) rc = check_unused(path, s, n, err);
    if (!rc) rc = check_memory(path, s, n, err);
    if (!rc && info) {
        info->nlayers = n - 1;
        info->line = malloc((size_t)n * sizeof(int));
        info->name = malloc((size_t)n * sizeof *info->name);
        if (!info->line || !info->name) {
            free(info->line); free(info->name);
            snprintf(err, DKMC_ERRLEN, "%s: out of memory", path);
            rc = -1;
        } else {
            for (int i = 1; i < n; i++) {
                info->line[i - 1] = s[i].line;
                snprintf(info->name[i - 1], sizeof info->name[i - 1], "%s", s[i].name);
            }
        }
    }
    free_sects(s, n);
    return rc;
}

void host__cfg_info_free(host_cfg_info *info) {
    free(info->line); free(info->name);
    info->line = NULL; info->name = NULL;
}
