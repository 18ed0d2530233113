set terminal pngcairo size 1300,540 font ',11'
set output 'results/A/fig5-full/fig5.png'
set multiplot layout 1,2 title 'Paper A Figure 5 on mnist: r = 8, fixed ‖σ‖_2 = 0.1, Algorithm 2 margins on 25 test images'
set title 'r-robustness margins (Algorithm 2)'
set xrange [-0.6:5 - 0.4]; set yrange [0:*]
set xtics ("M=5" 0, "M=7" 1, "M=10" 2, "M=12" 3, "standard" 4)
set xlabel 'model'; set ylabel 'estimated margin R^{r}(x)'; set grid ytics
set key top right box opaque
plot 'results/A/fig5-full/plot/points.dat' using ($1 + 0.12 * (rand(0) - 0.5)):2 with points pt 7 ps 0.8 lc rgb '#7f7f7f' title 'one image',      'results/A/fig5-full/plot/summary.dat' using 1:3:4 with yerrorbars pt 5 ps 1.6 lw 2 lc rgb '#d62728' title 'mean ± sd'
set title 'reconstruction vs robustness'
set autoscale x; set autoscale y; set xtics auto
set xlabel 'mean estimated margin R^{r}(x)'; set ylabel 'mean CB log-likelihood of reconstructions (nats)'
set grid
set offsets graph 0.12, graph 0.12, graph 0.1, graph 0.1
unset key
plot 'results/A/fig5-full/plot/summary.dat' using 3:5:6 with yerrorbars pt 7 ps 1.6 lc rgb '#1f77b4',      'results/A/fig5-full/plot/summary.dat' using 3:5:(sprintf('(%s)', stringcolumn(2))) with labels offset 0,1.3
unset multiplot
