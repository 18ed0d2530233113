set terminal pngcairo size 760,540 font ',11'
set output '/work/main/results/A/fig4/fig4.png'
set multiplot layout 1,1 title 'Paper A Figure 4: empirical (Algorithm 2) vs certified r-robustness margins, r = 8'
set logscale x; set xrange [0.0177864:6.75]; set format x '10^{%L}'; set xlabel 'certified margin (log scale; 0 not drawn)'; set ylabel 'estimated margin R^{r}(x) (Algorithm 2)'
set key top left box opaque samplen 1 spacing 1.1 font ',10'; set grid; set yrange [0:*]
set title 'Lemma 1.1 (per input), mnist, fixed ‖σ‖_2 = 0.1'
plot NaN with points pt 7 ps 1.3 lc rgb 'black' title 'filled: constants measured from the weights', NaN with points pt 6 ps 1.3 lc rgb 'black' title 'open: a = b = c = M (the paper’s arithmetic)', '/work/main/results/A/fig4/plot/mnist-5.dat' using 1:3 with points pt 7 ps 1.3 lc 1 title 'M = 5', '/work/main/results/A/fig4/plot/mnist-5.dat' using 2:3 with points pt 6 ps 1.3 lc 1 notitle, '/work/main/results/A/fig4/plot/mnist-7.dat' using 1:3 with points pt 7 ps 1.3 lc 2 title 'M = 7', '/work/main/results/A/fig4/plot/mnist-7.dat' using 2:3 with points pt 6 ps 1.3 lc 2 notitle, '/work/main/results/A/fig4/plot/mnist-10.dat' using 1:3 with points pt 7 ps 1.3 lc 3 title 'M = 10', '/work/main/results/A/fig4/plot/mnist-10.dat' using 2:3 with points pt 6 ps 1.3 lc 3 notitle, '/work/main/results/A/fig4/plot/mnist-12.dat' using 1:3 with points pt 7 ps 1.3 lc 4 title 'M = 12', '/work/main/results/A/fig4/plot/mnist-12.dat' using 2:3 with points pt 6 ps 1.3 lc 4 notitle, x with lines lc rgb 'black' lw 1.5 title 'y = x'
unset multiplot
