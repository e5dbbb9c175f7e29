/** A robot's settings page (USE_PLACEMENT), opened by the portal's robot designer. */
import { boot } from './boot.ts';
import RobotSettings from './pages/RobotSettings.vue';

void boot(RobotSettings);
