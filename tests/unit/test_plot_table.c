/* test_plot_table.c: the CSV tables "darknet plot" draws (plot/plot_table.c), read back
 * against what this file wrote: random numbers printed with %.17g come back exactly, row by
 * row, column by column and group by group; a y cell that is not a number is NaN; and the
 * refusals name the file and line (a short row, a non-numeric x), the unknown column, an
 * empty or missing file, a seventeenth group. Needs no PLplot (also built with PLOT=0). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include "plot.h"
#include "plot_table.h"

#define ROWS 200

static char *write_table(const char *text) {
    char *p = tu_write_temp(".csv", text);
    assert_non_null(p);
    return p;
}

/* Opens path, finds x, the y columns and the group (NULL: none) by name, reads: 0 or -1. */
static int read_named(plot_table *t, const char *path, const char *x, const char **ys, int ny, const char *group, char *err) {
    int yi[PLOT_TABLE_MAXSER], xi, gi = -1;
    if (plot_table_open(t, path, err)) return -1;
    if ((xi = plot_table_column(t, x, err)) < 0) return -1;
    if (group && (gi = plot_table_column(t, group, err)) < 0) return -1;
    for (int k = 0; k < ny; k++) if ((yi[k] = plot_table_column(t, ys[k], err)) < 0) return -1;
    return plot_table_read(t, xi, yi, ny, gi, err);
}

static void test_roundtrip(void **state) {
    (void)state;
    /* header "i,a,b,c", ROWS rows of random doubles; a blank line and CRLF ends along the way */
    static char text[64 + ROWS * 96];
    char *at = text;
    double a[ROWS], b[ROWS], c[ROWS];
    srand(7);
    at += sprintf(at, "i,a,b,c\r\n");
    for (int r = 0; r < ROWS; r++) {
        a[r] = (rand() / (double)RAND_MAX - 0.5) * 1e3;
        b[r] = rand() / (double)RAND_MAX * 1e-6;
        c[r] = r % 7 == 3 ? NAN : -(double)rand();
        if (r == 50) *at++ = '\n';
        if (r % 7 == 3) at += sprintf(at, "%d,%.17g,%.17g,-%s", r, a[r], b[r], r % 2 ? "\n" : "\r\n");   /* empty c */
        else at += sprintf(at, "%d,%.17g,%.17g,%.17g%s", r, a[r], b[r], c[r], r % 2 ? "\n" : "\r\n");
    }
    char *path = write_table(text);
    plot_table t;
    char err[PLOT_ERR_LEN];
    assert_int_equal(plot_table_open(&t, path, err), 0);
    assert_int_equal(t.nh, 4);
    const char *names[4] = { "i", "a", "b", "c" };
    for (int k = 0; k < 4; k++) {
        assert_string_equal(t.head[k], names[k]);
        assert_int_equal(plot_table_column(&t, names[k], err), k);
    }
    int yi[3] = { 1, 2, 3 };
    assert_int_equal(plot_table_read(&t, 0, yi, 3, -1, err), 0);
    assert_int_equal(t.ng, 1);
    assert_int_equal(t.ny, 3);
    for (int k = 0; k < 3; k++) {
        const plot_table_series *s = &t.ser[k];
        assert_string_equal(s->name, names[k + 1]);
        assert_int_equal(s->n, ROWS);
        for (int r = 0; r < ROWS; r++) {
            assert_true(s->x[r] == r);
            double want = k == 0 ? a[r] : k == 1 ? b[r] : c[r];
            if (isnan(want)) assert_true(isnan(s->y[r]));   /* "-" is not a number: NaN, not refused */
            else assert_true(s->y[r] == want);
        }
    }
    plot_table_close(&t);
    unlink(path); free(path);
}

static void test_groups(void **state) {
    (void)state;
    char *path = write_table("path,t,v,w\nbezier,0,1,10\nline,0,2,20\nbezier,0.5,3,30\nline,0.5,4,40\nbezier,1,5,50\n");
    plot_table t;
    char err[PLOT_ERR_LEN];
    const char *ys[2] = { "v", "w" };
    assert_int_equal(read_named(&t, path, "t", ys, 2, "path", err), 0);
    assert_int_equal(t.ng, 2);
    /* ser[g * ny + k]: groups in order of first appearance, named by their value */
    double want_x[2][3] = { { 0, 0.5, 1 }, { 0, 0.5 } }, want_v[2][3] = { { 1, 3, 5 }, { 2, 4 } };
    size_t want_n[2] = { 3, 2 };
    const char *gname[2] = { "bezier", "line" };
    for (int g = 0; g < 2; g++)
        for (int k = 0; k < 2; k++) {
            const plot_table_series *s = &t.ser[g * 2 + k];
            assert_string_equal(s->name, gname[g]);
            assert_int_equal(s->n, want_n[g]);
            for (size_t r = 0; r < s->n; r++) {
                assert_true(s->x[r] == want_x[g][r]);
                assert_true(s->y[r] == want_v[g][r] * (k ? 10 : 1));
            }
        }
    plot_table_close(&t);
    unlink(path); free(path);
}

/* reading path (x "t", y "v", group g or none) fails with exactly the message want (%s: the path) */
static void expect_refusal(const char *text, const char *y, const char *group, const char *want) {
    char *path = text ? write_table(text) : tu_temp_path(".csv");
    plot_table t;
    char err[PLOT_ERR_LEN] = "", msg[PLOT_ERR_LEN];
    const char *ys[1] = { y };
    assert_int_equal(read_named(&t, path, "t", ys, 1, group, err), -1);
    snprintf(msg, sizeof msg, want, path);
    assert_string_equal(err, msg);
    plot_table_close(&t);
    if (text) unlink(path);
    free(path);
}

static void test_refusals(void **state) {
    (void)state;
    expect_refusal("t,v\n0,1\n1\n2,3\n", "v", NULL, "%s:3: 1 fields, the header has 2");
    expect_refusal("t,v\n0,1\n\n1,2\nz,3\n", "v", NULL, "%s:5: 'z' is not a number");
    expect_refusal("t,v\n0,1\n", "nosuch", NULL, "%s: no column 'nosuch'");
    expect_refusal("t,v\n0,1\n", "v", "g", "%s: no column 'g'");
    expect_refusal("", "v", NULL, "%s: empty file (no header line)");
    expect_refusal(NULL, "v", NULL, "%s: cannot open");
    char many[2048], *at = many, *seventeenth = NULL;
    at += sprintf(at, "g,t,v\n");
    for (int g = 0; g < PLOT_TABLE_MAXSER + 1; g++) {
        if (g == PLOT_TABLE_MAXSER) seventeenth = at;
        at += sprintf(at, "group%d,%d,1\n", g, g);
    }
    expect_refusal(many, "v", "g", "%s: more than 16 groups");
    *seventeenth = 0;   /* sixteen groups are fine */
    char *path = write_table(many);
    plot_table t;
    char err[PLOT_ERR_LEN];
    const char *ys[1] = { "v" };
    assert_int_equal(read_named(&t, path, "t", ys, 1, "g", err), 0);
    assert_int_equal(t.ng, 16);
    plot_table_close(&t);
    unlink(path); free(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
