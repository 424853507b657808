// Dashboard entry point. uPlot's stylesheet comes first so app.css can restyle the chart.
import "uplot/dist/uPlot.min.css";
import "./app.css";
import { startBattle } from "./battle.js";
import { localizeTimes } from "./times.js";

const battle = document.getElementById("battle");
if (battle) {
  startBattle(battle);
}
localizeTimes(document);
