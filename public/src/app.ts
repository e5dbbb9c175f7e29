/** The app's main page in the Bitrix24 frame: status, calls, workflows and the user's own tasks. */
import { boot } from './boot.ts';
import MainPage from './pages/MainPage.vue';

void boot(MainPage);
