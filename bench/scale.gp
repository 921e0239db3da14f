# Plot of a bench/scale.sh run.  Called by it as
#
#   gnuplot -e "dir='DATA'; out='PLOTS'; fmt='svg'" \
#           -e "burst=500; sleep_ms=50" bench/scale.gp
#
# fmt is svg or png.  Writes scale-burst: for the first round of each
# burst configuration, the queue length (top) and the calls in flight and
# instances (bottom) that faas_status showed over the burst.

if (fmt eq 'svg') {
    set terminal svg size 900,720 dynamic noenhanced font 'sans,12' \
        background '#ffffff'
} else {
    set terminal pngcairo size 900,720 noenhanced font 'sans,10' \
        background '#ffffff'
}

set output out.'/scale-burst.'.fmt

bursts = 'c1 c8 c8-m2'
keys = '"concurrency 1, max_instances 16" ' \
     . '"concurrency 8, max_instances 16" "concurrency 8, max_instances 2"'
file(b) = dir.'/scale-burst-'.b.'-1-status.dat'

set grid
set key top right
set xlabel sprintf('ms since the %d requests were written', burst)
set xrange [0:*]
set yrange [0:*]
set multiplot layout 2,1 title \
    sprintf('%d calls at once to a cold function (%d ms each), ' \
            . 'faas_status every 20 ms', burst, sleep_ms)

set title 'queue_length'
set ylabel 'calls waiting'
plot for [i = 1:words(bursts)] file(word(bursts, i)) using 1:2 \
     with linespoints lw 2 pt 7 ps 0.4 title word(keys, i)

set title 'in_flight (solid) and instances (dashed)'
set ylabel 'calls, instances'
set logscale y 2
set yrange [1:256]
plot for [i = 1:words(bursts)] file(word(bursts, i)) \
         using 1:($3 > 0 ? $3 : 1/0) \
         with linespoints lw 2 pt 7 ps 0.4 lc i title word(keys, i), \
     for [i = 1:words(bursts)] file(word(bursts, i)) \
         using 1:($4 + $5 + $6 > 0 ? $4 + $5 + $6 : 1/0) \
         with lines lw 2 dt 2 lc i notitle

unset multiplot
