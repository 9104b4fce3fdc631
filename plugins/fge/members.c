/* members.c: parsing and checking the members of an ensemble, one network per distinct cfg,
 * and the ensemble's prediction for a single image (see members.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "members.h"
#include "run.h"

static const char *cfg_sep(const char *arg) {
    const char *s = strstr(arg, ".cfg:");
    return s ? s + 4 : NULL;   /* the colon */
}

int ens_is_member_arg(const char *arg) {
    size_t l = strlen(arg), k = strlen(".weights");
    if (l > k && !strcmp(arg + l - k, ".weights")) return 1;
    const char *c = cfg_sep(arg);
    return c && c[1] != 0;
}

int ens_member_split(const char *arg, const char *default_cfg, char *cfg, size_t cfg_len,
                     char *weights, size_t weights_len, char *err) {
    const char *c = cfg_sep(arg);
    const char *w = c ? c + 1 : arg;
    size_t cl = c ? (size_t)(c - arg) : strlen(default_cfg ? default_cfg : "");
    if (!*w) { snprintf(err, DKMC_ERRLEN, "%s: no weights file after the cfg", arg); return -1; }
    if (!cl) { snprintf(err, DKMC_ERRLEN, "%s: no cfg for this member", arg); return -1; }
    if (cl >= cfg_len || strlen(w) >= weights_len) { snprintf(err, DKMC_ERRLEN, "%s: path too long", arg); return -1; }
    memcpy(cfg, c ? arg : default_cfg, cl);
    cfg[cl] = 0;
    strcpy(weights, w);
    return 0;
}

void ens_members_free(ens_members *m) {
    for (int i = 0; i < m->n; i++) {
        if (m->cfg) free(m->cfg[i]);
        if (m->weights) free(m->weights[i]);
    }
    for (int i = 0; i < m->nnets; i++) host_free(m->nets[i]);
    free(m->cfg); free(m->weights); free(m->net_of); free(m->nets);
    memset(m, 0, sizeof *m);
}

/* The network of member i's cfg: the one an earlier member with the same cfg built, or a new
 * one, checked against the geometry and classes. */
static int net_for(ens_members *m, int i, int batch, char *err) {
    const char *cfg = m->cfg[i];
    for (int t = 0; t < i; t++)
        if (!strcmp(m->cfg[t], cfg)) return m->net_of[t];
    host_net *h = host_load(cfg, batch, err);
    if (!h) return -1;
    if (!m->w && !m->h && !m->c) { m->w = host_width(h); m->h = host_height(h); m->c = host_channels(h); }
    if (host_width(h) != m->w || host_height(h) != m->h || host_channels(h) != m->c || host_outputs(h) != m->classes) {
        snprintf(err, DKMC_ERRLEN, "%s: network takes %dx%dx%d inputs and has %d outputs, the ensemble needs %dx%dx%d inputs and %d classes",
                 cfg, host_width(h), host_height(h), host_channels(h), host_outputs(h), m->w, m->h, m->c, m->classes);
        host_free(h);
        return -1;
    }
    m->nets[m->nnets] = h;
    return m->nnets++;
}

int ens_members_open(ens_members *m, const char *default_cfg, char *const *args, int n, int batch,
                     int w, int h, int c, int classes, char *err) {
    memset(m, 0, sizeof *m);
    if (n < 1) { snprintf(err, DKMC_ERRLEN, "no members given"); return -1; }
    m->w = w; m->h = h; m->c = c; m->classes = classes;
    m->cfg = calloc((size_t)n, sizeof *m->cfg);
    m->weights = calloc((size_t)n, sizeof *m->weights);
    m->net_of = calloc((size_t)n, sizeof *m->net_of);
    m->nets = calloc((size_t)n, sizeof *m->nets);
    if (!m->cfg || !m->weights || !m->net_of || !m->nets) {
        snprintf(err, DKMC_ERRLEN, "out of memory for %d members", n);
        ens_members_free(m);
        return -1;
    }
    m->n = n;
    char cbuf[4096], wbuf[4096];
    for (int i = 0; i < n; i++) {
        if (ens_member_split(args[i], default_cfg, cbuf, sizeof cbuf, wbuf, sizeof wbuf, err)) goto fail;
        m->cfg[i] = strdup(cbuf);
        m->weights[i] = strdup(wbuf);
        if (!m->cfg[i] || !m->weights[i]) { snprintf(err, DKMC_ERRLEN, "out of memory"); goto fail; }
        if ((m->net_of[i] = net_for(m, i, batch, err)) < 0) goto fail;
        /* the size check (and a readable file) now rather than halfway through */
        if (host_load_weights(m->nets[m->net_of[i]], wbuf, err)) goto fail;
        if (run_bn_young(m->nets[m->net_of[i]])) {
            if (!m->young) run_bn_young_warning(m->nets[m->net_of[i]], wbuf, m->young_note, sizeof m->young_note);
            m->young++;
        }
    }
    return 0;
fail:
    ens_members_free(m);
    return -1;
}

host_net *ens_members_load(ens_members *m, int i, char *err) {
    host_net *h = m->nets[m->net_of[i]];
    return host_load_weights(h, m->weights[i], err) ? NULL : h;
}

int ens_members_predict(ens_members *m, const float *x, float *probs, char *err) {
    float *p = malloc((size_t)m->classes * sizeof *p);
    double *sum = calloc((size_t)m->classes, sizeof *sum);
    if (!p || !sum) { free(p); free(sum); snprintf(err, DKMC_ERRLEN, "out of memory"); return -1; }
    int rc = 0;
    for (int i = 0; i < m->n; i++) {
        host_net *h = ens_members_load(m, i, err);
        if (!h) { rc = -1; break; }
        host_predict(h, x, 1, p);
        for (int k = 0; k < m->classes; k++) sum[k] += p[k];
    }
    for (int k = 0; !rc && k < m->classes; k++) probs[k] = (float)(sum[k] / m->n);
    free(p); free(sum);
    return rc;
}

int ens_top_k(const float *p, int n, int k, int *idx) {
    if (k > n) k = n;
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            int taken = 0;
            for (int t = 0; t < j; t++) if (idx[t] == i) taken = 1;
            if (!taken && (best < 0 || p[i] > p[best])) best = i;
        }
        idx[j] = best;
    }
    return k < 0 ? 0 : k;
}
