# Plots of a bench/run.sh run.  Called by run.sh as
#
#   gnuplot -e "dir='DATA'; out='PLOTS'; fmt='svg'" \
#           -e "names='return proxy ...'; labels='\"...\" ...'; faas=1" \
#           bench/plots.gp
#
# fmt is svg or png.  Writes throughput, latency and coldstart-cdf plots.

if (fmt eq 'svg') {
    set terminal svg size 900,480 dynamic noenhanced font 'sans,12' \
        background '#ffffff'
} else {
    set terminal pngcairo size 900,480 noenhanced font 'sans,10' \
        background '#ffffff'
}

set grid
set key top left
set style line 1 lw 2
# the default fifth colour, yellow, is hard to see on white
set linetype 5 lc rgb '#8c564b'


# throughput: median req/s of each scenario

set output out.'/throughput.'.fmt
set title 'Throughput, wrk -t2 -c50 (median round)'
set ylabel 'requests per second'
set yrange [0:*]
set style fill solid 0.6 border -1
set boxwidth 0.6
# slanted scenario names: seven of them do not fit side by side
set xtics nomirror rotate by 20 right
unset key
plot dir.'/throughput-median.tsv' using 0:2:xtic(1) \
         with boxes lc rgb '#4477aa', \
     '' using 0:2:(sprintf('%.0f', $2)) with labels offset 0,0.8
set key top left
set xtics norotate


# latency spectrum with one connection: percentile on a log axis of
# 1 / (1 - p), so that the tail gets room

set output out.'/latency.'.fmt
set title 'Latency by percentile, one connection (wrk -t1 -c1)'
set xlabel 'percentile'
set ylabel 'latency (ms)'
set logscale x
set logscale y
set yrange [*:*]
set xrange [1:100000]
set xtics ('50%%' 2, '90%%' 10, '99%%' 100, '99.9%%' 1000, \
           '99.99%%' 10000, '99.999%%' 100000)
plot for [i = 1:words(names)] dir.'/latency-'.word(names, i).'.dat' \
     using ($1 < 100 ? 100 / (100 - $1) : 1/0):($2 / 1000) \
     with lines lw 2 title word(labels, i)
unset logscale
unset xrange
set xtics auto


# cold start: CDF of the cold samples as the client sees them (request
# written to response read) and as the supervisor does (arrival to instance
# ready), and of warm requests for scale

if (faas) {
    set output out.'/coldstart-cdf.'.fmt
    set title 'ngx_faas cold start vs warm request, CDF'
    set xlabel 'latency (ms)'
    set ylabel 'fraction of requests'
    set logscale x
    set yrange [0:1]
    set key top left
    plot dir.'/coldstart-warm.cdf' using 1:2 with steps lw 2 \
             title 'warm, client', \
         dir.'/coldstart-cold.cdf' using 1:2 with steps lw 2 \
             title 'cold, client', \
         dir.'/coldstart-supervisor.cdf' using 1:2 with steps lw 2 \
             title 'cold, supervisor'
}
