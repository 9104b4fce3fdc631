/* plane_files.c: a grid's files (see plane.h): the partial file that makes a grid resumable,
 * and the CSV, written and read back. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plane.h"
#include "wspace.h"

#define PARTIAL_MAGIC "# darknet plane partial 1"
#define CSV_HEADER "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_nll,tr_err,te_nll,te_err"
#define CSV_HEADER_DET "kind,i,j,t,alpha,beta,x,y,tr_loss,tr_det,map50,map5095"

int plane_state_init(plane_state *s, int g, const char *partial, const char *settings, char *err) {
    memset(s, 0, sizeof *s);
    s->g = g;
    s->partial = partial;
    s->settings = settings ? settings : "";
    s->rows = calloc((size_t)g * g, sizeof *s->rows);
    s->done = calloc((size_t)g * g, 1);
    if (!s->rows || !s->done) {
        plane_state_free(s);
        snprintf(err, PLANE_ERRLEN, "out of memory for a grid of %d x %d", g, g);
        return -1;
    }
    return 0;
}

void plane_state_free(plane_state *s) {
    free(s->rows);
    free(s->done);
    s->rows = NULL;
    s->done = NULL;
}

static int write_partial(const plane_state *s, char *err) {
    ws_atomic a;
    if (ws_atomic_open(&a, s->partial, err)) return -1;
    FILE *f = a.fp;
    fprintf(f, PARTIAL_MAGIC "\n# settings %s\n", s->settings);
    for (int k = 0; k < s->g * s->g; k++) {
        if (!s->done[k]) continue;
        const plane_row *r = &s->rows[k];
        fprintf(f, "%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g\n", k, r->alpha, r->beta, r->x, r->y,
                r->tr_loss, r->tr_nll, r->tr_err, r->te_nll, r->te_err);
    }
    return ws_atomic_commit(&a, err);
}

int plane_state_done(plane_state *s, int k, const plane_row *r, char *err) {
    s->rows[k] = *r;
    s->done[k] = 1;
    return s->partial ? write_partial(s, err) : 0;
}

/* The first key=value of the settings that differs, for a one-line refusal. */
static void settings_diff(const char *have, const char *want, char *out, size_t n) {
    char *a = strdup(have), *b = strdup(want);
    if (!a || !b) { snprintf(out, n, "other settings"); free(a); free(b); return; }
    char *sa, *sb;
    char *ta = strtok_r(a, " ", &sa), *tb = strtok_r(b, " ", &sb);
    while (ta && tb && !strcmp(ta, tb)) { ta = strtok_r(NULL, " ", &sa); tb = strtok_r(NULL, " ", &sb); }
    if (ta && tb) snprintf(out, n, "it has %s, this run has %s", ta, tb);
    else snprintf(out, n, "other settings");
    free(a); free(b);
}

int plane_state_resume(plane_state *s, const char *path, int *count, char *err) {
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, PLANE_ERRLEN, "%s: cannot read the partial grid: %m", path); return -1; }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0, n = 0;
    ssize_t len;
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (lineno == 1) {
            if (strcmp(line, PARTIAL_MAGIC)) { snprintf(err, PLANE_ERRLEN, "%s: not a partial grid of darknet plane", path); rc = -1; }
            continue;
        }
        if (lineno == 2) {
            if (strncmp(line, "# settings ", 11)) {
                snprintf(err, PLANE_ERRLEN, "%s: line 2: no settings line", path);
                rc = -1;
            } else if (strcmp(line + 11, s->settings)) {
                char why[400];
                settings_diff(line + 11, s->settings, why, sizeof why);
                snprintf(err, PLANE_ERRLEN, "%s: the partial grid was made with other settings (%s); resume needs the "
                         "same grid, basis, data and limits", path, why);
                rc = -1;
            }
            continue;
        }
        double v[9];
        char *p = line, *end;
        long k = strtol(p, &end, 10);
        int ok = end != p && *end == ',' && k >= 0 && k < (long)s->g * s->g;
        for (int q = 0; ok && q < 9; q++) {
            p = end + 1;
            v[q] = strtod(p, &end);
            ok = end != p && (q == 8 ? *end == 0 : *end == ',');
        }
        if (!ok) { snprintf(err, PLANE_ERRLEN, "%s: line %d: malformed grid row", path, lineno); rc = -1; break; }
        plane_row *r = &s->rows[k];
        r->alpha = v[0]; r->beta = v[1]; r->x = v[2]; r->y = v[3];
        r->tr_loss = v[4]; r->tr_nll = v[5]; r->tr_err = v[6]; r->te_nll = v[7]; r->te_err = v[8];
        n += !s->done[k];
        s->done[k] = 1;
    }
    if (!rc && lineno < 2) { snprintf(err, PLANE_ERRLEN, "%s: truncated partial grid (no settings line)", path); rc = -1; }
    free(line);
    fclose(f);
    if (count) *count = n;
    return rc;
}

static void fmt_val(char *buf, size_t n, double v, int prec) {
    if (isnan(v)) snprintf(buf, n, "nan");
    else snprintf(buf, n, "%.*f", prec, v);
}

/* a grid row's metrics: five of a classifier's, four of a detector's */
static void grid_values(FILE *f, const plane_row *r, int detector) {
    char v[5][40];
    fmt_val(v[0], 40, r->tr_loss, 6);
    if (detector) {
        fmt_val(v[1], 40, r->tr_det, 6); fmt_val(v[2], 40, r->map50, 6); fmt_val(v[3], 40, r->map5095, 6);
        fprintf(f, "%s,%s,%s,%s\n", v[0], v[1], v[2], v[3]);
        return;
    }
    fmt_val(v[1], 40, r->tr_nll, 6); fmt_val(v[2], 40, r->tr_err, 4);
    fmt_val(v[3], 40, r->te_nll, 6); fmt_val(v[4], 40, r->te_err, 4);
    fprintf(f, "%s,%s,%s,%s,%s\n", v[0], v[1], v[2], v[3], v[4]);
}

int plane_write_csv(const char *path, const plane_state *s, const plane_basis *b, const plane_mark *m, int nm,
                    const double *ct, const double *cx, const double *cy, int ncurve, char *err) {
    ws_atomic a;
    if (ws_atomic_open(&a, path, err)) return -1;
    FILE *f = a.fp;
    const char *empty = s->detector ? ",,," : ",,,,";   /* the metrics of a mark or a curve point */
    fprintf(f, "%s\n", s->detector ? CSV_HEADER_DET : CSV_HEADER);
    for (int q = 0; q < nm; q++)
        fprintf(f, "%s,%d,,,%.6f,%.6f,%.6f,%.6f,%s\n", m[q].kind, m[q].index, m[q].x / b->dx, m[q].y / b->dy, m[q].x, m[q].y, empty);
    for (int q = 0; q < ncurve; q++)
        fprintf(f, "curve,%d,,%.6f,%.6f,%.6f,%.6f,%.6f,%s\n", q, ct[q], cx[q] / b->dx, cy[q] / b->dy, cx[q], cy[q], empty);
    for (int k = 0; k < s->g * s->g; k++) {
        const plane_row *r = &s->rows[k];
        fprintf(f, "grid,%d,%d,,%.6f,%.6f,%.6f,%.6f,", k / s->g, k % s->g, r->alpha, r->beta, r->x, r->y);
        grid_values(f, r, s->detector);
    }
    return ws_atomic_commit(&a, err);
}

void plane_csv_free(plane_csv *c) {
    free(c->rows); free(c->cx); free(c->cy);
    c->rows = NULL; c->cx = c->cy = NULL;
}

/* a whole field as a number (empty or trailing text: not one) */
static int num(const char *s, double *v) {
    char *e;
    *v = strtod(s, &e);
    return e != s && !*e;
}

int plane_read_csv(const char *path, plane_csv *c, char *err) {
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "r");
    if (!f) { snprintf(err, PLANE_ERRLEN, "%s: cannot open", path); return -1; }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0, ngrid = 0;
    plane_row *rows = NULL;
    int *ij = NULL;
#define FAIL(...) do { snprintf(err, PLANE_ERRLEN, __VA_ARGS__); rc = -1; } while (0)
    while (!rc && getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1) {
            c->detector = !strcmp(line, CSV_HEADER_DET);
            if (!c->detector && strcmp(line, CSV_HEADER)) FAIL("%s: not a CSV of darknet plane (its header differs)", path);
            continue;
        }
        char *fld[13], *p = line;
        int nf = 0, want = c->detector ? 12 : 13;
        while (nf < want && p) fld[nf++] = strsep(&p, ",");
        if (nf != want || p) { FAIL("%s:%d: %d fields, not %d", path, lineno, nf + (p != NULL), want); break; }
        double x, y, idx;
        if (!num(fld[6], &x) || !num(fld[7], &y) || !num(fld[1], &idx) || !isfinite(x) || !isfinite(y) || idx < 0 ||
            idx > 1000000 || idx != floor(idx)) {
            FAIL("%s:%d: i, x or y is not a number", path, lineno);
            break;
        }
        if (!strcmp(fld[0], "grid")) {
            double j, al = NAN, be = NAN, v[5];
            if (!num(fld[2], &j) || j < 0 || j > 1000000 || j != floor(j)) { FAIL("%s:%d: j is not a number", path, lineno); break; }
            num(fld[4], &al);
            num(fld[5], &be);
            for (int q = 0; q < 5; q++) if (q >= want - 8 || !num(fld[8 + q], &v[q])) v[q] = NAN;   /* "nan" or not measured */
            plane_row *r = realloc(rows, (ngrid + 1) * sizeof *rows);
            if (r) rows = r;
            int *q = r ? realloc(ij, 2 * (ngrid + 1) * sizeof *ij) : NULL;
            if (!q) { FAIL("out of memory"); break; }
            ij = q;
            rows[ngrid] = (plane_row){ .alpha = al, .beta = be, .x = x, .y = y, .tr_loss = v[0], .tr_nll = v[1], .tr_err = v[2],
                                       .te_nll = v[3], .te_err = v[4] };
            ij[2 * ngrid] = (int)idx; ij[2 * ngrid + 1] = (int)j;
            ngrid++;
        } else if (!strcmp(fld[0], "curve")) {
            double *a = realloc(c->cx, (c->ncurve + 1) * sizeof *c->cx);
            if (a) c->cx = a;
            double *b = a ? realloc(c->cy, (c->ncurve + 1) * sizeof *c->cy) : NULL;
            if (!b) { FAIL("out of memory"); break; }
            c->cy = b;
            c->cx[c->ncurve] = x; c->cy[c->ncurve] = y; c->ncurve++;
        } else if (!strcmp(fld[0], "bend") || !strcmp(fld[0], "point") || !strcmp(fld[0], "center")) {
            if (c->nm == PLANE_MAX_MARKS) { FAIL("%s:%d: more than %d marked points", path, lineno, PLANE_MAX_MARKS); break; }
            plane_mark *m = &c->marks[c->nm++];
            snprintf(m->kind, sizeof m->kind, "%s", fld[0]);
            m->index = (int)idx; m->x = x; m->y = y;
        } else {
            FAIL("%s:%d: unknown row kind '%s'", path, lineno, fld[0]);
        }
    }
    fclose(f);
    free(line);
    if (!rc && lineno < 1) FAIL("%s: empty file", path);
    int g = (int)lround(sqrt(ngrid));
    if (!rc && (g < 2 || g * g != ngrid)) FAIL("%s: %d grid rows, not a square grid of at least 2 x 2", path, ngrid);
    unsigned char *seen = rc ? NULL : calloc((size_t)ngrid, 1);
    if (!rc && !(c->rows = calloc((size_t)ngrid, sizeof *c->rows))) FAIL("out of memory");
    if (!rc && !seen) FAIL("out of memory");
    for (int k = 0; !rc && k < ngrid; k++) {
        int i = ij[2 * k], j = ij[2 * k + 1];
        if (i < 0 || i >= g || j < 0 || j >= g || seen[i * g + j]) {
            FAIL("%s: grid row %d (i %d, j %d): out of the %d x %d grid or given twice", path, k + 1, i, j, g, g);
            break;
        }
        seen[i * g + j] = 1;
        c->rows[i * g + j] = rows[k];
        c->has_train |= isfinite(rows[k].tr_loss);
    }
#undef FAIL
    free(seen); free(rows); free(ij);
    c->g = g;
    if (rc) plane_csv_free(c);
    return rc;
}
