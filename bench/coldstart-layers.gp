# Plot of a bench/coldstart-layers.sh run.  Called by it as
#
#   gnuplot -e "dir='DATA'; out='PLOTS'; fmt='svg'; runtimes='c python3'" \
#           bench/coldstart-layers.gp
#
# fmt is svg or png; runtimes the ones measured (default all three).
# Writes coldstart-layers: one panel per runtime, the CDF of each layer's
# samples at the client (solid) and in the supervisor (dashed, same
# colour), on one log axis so that the panels compare.

if (!exists('runtimes')) {
    runtimes = 'c python3 nodejs'
}

height = 60 + 350 * words(runtimes)

if (fmt eq 'svg') {
    set terminal svg size 900,height dynamic noenhanced font 'sans,12' \
        background '#ffffff'
} else {
    set terminal pngcairo size 900,height noenhanced font 'sans,10' \
        background '#ffffff'
}

set output out.'/coldstart-layers.'.fmt

name(rt) = rt eq 'c' ? 'C' : rt eq 'python3' ? 'Python' : \
           rt eq 'nodejs' ? 'Node.js' : rt
layers = 'warm runtime sandbox none'
keys = '"warm call" "pooled runtime" "pooled sandbox" "no pool"'
colours = '#228833 #4477aa #ccbb44 #ee6677'

set grid
set logscale x
set xrange [0.05:1000]
set yrange [0:1]
set ylabel 'fraction of samples'
set key outside right top

set multiplot layout words(runtimes),1 \
    title 'ngx_faas cold start by warm layer, CDF ' . \
          '(solid: client, dashed: supervisor)'

do for [r = 1:words(runtimes)] {
    rt = word(runtimes, r)
    set title name(rt).' (hello)'
    set xlabel (r == words(runtimes) ? 'latency (ms)' : '')
    # the warm series has no supervisor-side samples; those are lines,
    # not steps, so that the dashes survive 200 tiny segments
    plot for [i = 1:words(layers)] \
             dir.'/layers-'.rt.'-'.word(layers, i).'.cdf' using 1:2 \
             with steps lw 2 lc rgb word(colours, i) \
             title word(keys, i), \
         for [i = 2:words(layers)] \
             dir.'/layers-'.rt.'-'.word(layers, i).'.supervisor.cdf' \
             using 1:2 with lines lw 1.5 dt (6, 4) lc rgb word(colours, i) \
             notitle
}

unset multiplot
