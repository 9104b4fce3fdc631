/* plot_table.h: a CSV table with a header line, read into numeric series (what "darknet
 * plot" draws). Plain comma-separated values, no quoting; at most PLOT_TABLE_MAXCOL fields a
 * line (the last one keeps the rest of the line), lines of up to 16383 bytes; blank lines are
 * skipped. Errors: -1 and a one-line message in err (PLOT_ERR_LEN bytes) naming the file, and
 * the line where there is one ("<path>:<line>: ..."). plot_table_draw draws the series with
 * plot_lines_save (which fails in a build without PLplot, make PLOT=0). */
#ifndef PLOT_TABLE_H
#define PLOT_TABLE_H
#include <stddef.h>
#include <stdio.h>

#define PLOT_TABLE_MAXCOL 64
#define PLOT_TABLE_MAXSER 16   /* y columns, and groups */

/* One series: the x and y columns' numbers, row by row. */
typedef struct {
    char name[128];     /* the y column's name, or (with a group column) the group's value */
    double *x, *y;
    size_t n, cap;
} plot_table_series;

typedef struct {
    const char *path;               /* for messages: the caller's string */
    FILE *fp;
    char *hline, *line;             /* the header line (head points into it), the current row */
    char *head[PLOT_TABLE_MAXCOL];  /* the header's column names */
    int nh;
    /* after plot_table_read: ser[g * ny + k], group g (one without a group column), y column k */
    plot_table_series *ser;
    int ny, ng;
    int xcol, ycol[PLOT_TABLE_MAXSER], gcol;   /* the columns read (gcol -1: no group) */
} plot_table;

/* Opens path and reads its header line. 0, or -1 with "<path>: cannot open" or "<path>: empty
 * file (no header line)". Close t with plot_table_close whatever it returns. */
int plot_table_open(plot_table *t, const char *path, char *err);
/* The index of the column called name, or -1 with "<path>: no column '<name>'". */
int plot_table_column(const plot_table *t, const char *name, char *err);
/* Reads the rows into series: one per y column (ycols[0..ny), ny <= PLOT_TABLE_MAXSER), or
 * with gcol >= 0 one per y column and value of column gcol (in order of first appearance, at
 * most PLOT_TABLE_MAXSER). Every row's x must be a number; a y cell that is not one is NaN.
 * 0, or -1 with "<path>:<line>: <n> fields, the header has <m>", "<path>:<line>: '<cell>' is
 * not a number" (x), "<path>: more than 16 groups" or "out of memory". */
int plot_table_read(plot_table *t, int xcol, const int *ycols, int ny, int gcol, char *err);
void plot_table_close(plot_table *t);

/* How plot_table_draw lays out the series read: one panel holding every series (one per y
 * column, or per group), or with panels one panel per y column (ny <= PLOT_MAX_PANELS), each
 * holding one series per group. title and ylabel: with panels one comma-separated text per
 * panel. NULL: none, the x column's name, the y column's name (one y column, or each panel's). */
/* nerr > 0: the last nerr of the columns read are the first ones' error half-widths (as
 * many as the y columns): each series is then drawn as points with error bars, no lines, the
 * groups side by side around each x (shifted by 2 % of the x range from each other). */
typedef struct {
    const char *title, *xlabel, *ylabel;
    int logy, panels, nerr;
} plot_table_look;
/* Draws the figure to path (.png, .svg or .pdf; plot_lines_save): 900x600, or 600x480 a panel
 * side by side. 0, or -1 with plot_lines_save's error. */
int plot_table_draw(const plot_table *t, const plot_table_look *look, const char *path, char *err);
#endif
